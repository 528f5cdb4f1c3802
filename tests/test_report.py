"""`weserbot report`: one self-contained HTML page a staff member opens in a browser, in the staff's
language (German by default), leading with the cross-border hurdles and showing every cause."""

from __future__ import annotations

import re
import struct
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.report import build_report

CHROMIUM = Path("/usr/bin/chromium")
NOW = datetime.now(UTC)


@pytest.fixture
async def report_page(hurdle_store, hurdle_answer) -> str:
    """A report over two months: an open cross-border hurdle (4×), an open no-topic hurdle with
    markup in it (2×), and a hurdle that was already answered by an update (5×)."""
    log = hurdle_store.log_answer
    pay = hurdle_answer("Elterngeld: ich wohne in Lügde und arbeite in Hameln", "needs_place",
                        "elterngeld",
                        [("Lügde", "residence", None), ("Hameln", "business_site", None)])
    for days in (60, 30, 3, 0):
        await log(pay, asker=days, at=NOW - timedelta(days=days))
    for asker in (1, 2):
        await log(hurdle_answer("<script>alert('Osterfeuer')</script> Osterfeuer anmelden?"),
                  asker=asker)
    done = hurdle_answer("Hundesteuer Holzminden", "outside_region", "hundesteuer",
                         [("Holzminden", "residence", None)])
    for asker in range(5):
        await log(done, asker=asker, at=NOW - timedelta(days=8))
    await hurdle_store.set_status(3, "answered_by_update", "Wissensbasis ergänzt")
    return await build_report(hurdle_store)


def test_the_page_lists_the_top_open_hurdles_only(report_page):
    top = report_page.split('id="top"')[1].split('id="topics"')[0]
    assert "Elterngeld: ich wohne in Lügde und arbeite in Hameln" in top
    assert "Osterfeuer anmelden?" in top
    assert "Hundesteuer Holzminden" not in top
    assert top.index("Elterngeld") < top.index("Osterfeuer")  # most frequent first


def test_the_page_has_charts_by_topic_district_pair_time_and_status(report_page):
    for section in ("topics", "districts", "time", "status"):
        assert f'id="{section}"' in report_page
    topics = report_page.split('id="topics"')[1].split('id="districts"')[0]
    assert ">hundesteuer<" in topics and ">elterngeld<" in topics and ">(kein Thema)<" in topics
    districts = report_page.split('id="districts"')[1].split('id="time"')[0]
    # Lippe (NRW) → Hameln-Pyrmont (Lower Saxony) crosses the Land border: highlighted.
    assert re.search(r'lippe→hameln-pyrmont</div><div class="track"><div class="bar cross"',
                     districts)
    assert re.search(r'holzminden</div><div class="track"><div class="bar"', districts)
    assert report_page.count("<rect") >= 4  # weeks with entries in the SVG timeline


def test_questions_are_escaped_not_run(report_page):
    assert "<script" not in report_page
    assert "&lt;script&gt;alert(&#x27;Osterfeuer&#x27;)&lt;/script&gt;" in report_page


def test_the_page_is_self_contained(report_page):
    assert "<link" not in report_page and "@import" not in report_page
    assert not re.search(r"\b(src|href)\s*=", report_page)
    assert "url(" not in report_page and "@font-face" not in report_page
    assert re.findall(r"https?://[^\s\"'<]+", report_page) == ["http://www.w3.org/2000/svg"]


def test_the_page_leads_with_the_cross_border_hurdles_and_shows_every_cause(report_page):
    assert report_page.index('id="cross"') < report_page.index('id="causes"') \
        < report_page.index('id="top"')
    cross = report_page.split('id="cross"')[1].split('id="causes"')[0]
    assert re.search(r'lippe→hameln-pyrmont</div><div class="track"><div class="bar cross"', cross)
    assert re.search(r'NI–NW</div><div class="track"><div class="bar cross"[^>]*>4<', cross)
    causes = report_page.split('id="causes"')[1].split('id="top"')[0]
    assert re.findall(r"<div>([^<]+)</div><div class=\"track\">", causes) == [
        "grenzüberschreitend", "Wissenslücke (kein Thema)", "außerhalb der Region"]
    top = report_page.split('id="top"')[1].split('id="topics"')[0]
    assert "<th>Ursache</th>" in top and '<td class="cross">grenzüberschreitend</td>' in top
    assert "<b>4</b>grenzüberschreitende Fragen" in report_page


async def test_the_page_is_german_by_default_and_english_on_request(hurdle_store, report_page):
    assert '<html lang="de">' in report_page and "<h1>WeserBot-Hürdenbericht</h1>" in report_page
    english = await build_report(hurdle_store, lang="en")
    assert '<html lang="en">' in english and "<h1>WeserBot hurdle report</h1>" in english
    assert "Cross-border hurdles" in english and "knowledge gap (no topic)" in english


async def test_an_empty_log_gives_a_page_too(hurdle_store):
    page = await build_report(hurdle_store)
    assert "Keine offenen Hürden" in page and "In diesem Zeitraum wurde nichts protokolliert" in page


async def test_the_period_limits_what_is_counted(hurdle_store, report_page):
    page = await build_report(hurdle_store, since=NOW - timedelta(days=7))
    cards = page.split('class="cards"')[1].split("</div></div>")[0]
    assert "<b>4</b>protokollierte Fragen" in cards  # 2 Elterngeld + 2 Osterfeuer in 7 days


def _chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--no-first-run", f"--user-data-dir={cwd / 'profile'}",
         *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed "
                    "(/usr/bin/chromium; Debian package `chromium`, .ci/run installs it)")
def test_the_report_renders_in_headless_chromium(report_page, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report_page, encoding="utf-8")
    dom = _chromium("--dump-dom", page.as_uri(), cwd=tmp_path)
    assert dom.returncode == 0, dom.stderr
    assert "<title>WeserBot-Hürdenbericht</title>" in dom.stdout
    # The causes, cross-border first, as the browser renders them.
    cross = dom.stdout.split('id="cross"')[1].split('id="causes"')[0]
    assert "lippe→hameln-pyrmont" in cross and "NI–NW" in cross
    causes = dom.stdout.split('id="causes"')[1].split('id="top"')[0]
    assert causes.index("grenzüberschreitend") < causes.index("Wissenslücke (kein Thema)") \
        < causes.index("außerhalb der Region")
    assert "Elterngeld: ich wohne in Lügde und arbeite in Hameln" in dom.stdout
    assert "lippe→hameln-pyrmont" in dom.stdout and "<svg" in dom.stdout

    shot = tmp_path / "report.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri(),
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 2000)
    assert len(png) > 40_000  # a page with charts, not a blank one (a blank page is ~12 kB)
