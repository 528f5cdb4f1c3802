"""`weserbot report`: one self-contained HTML page a staff member opens in a browser."""

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
    assert ">hundesteuer<" in topics and ">elterngeld<" in topics and ">(no topic)<" in topics
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


async def test_an_empty_log_gives_a_page_too(hurdle_store):
    page = await build_report(hurdle_store)
    assert "No open hurdles" in page and "Nothing logged in this period" in page


async def test_the_period_limits_what_is_counted(hurdle_store, report_page):
    page = await build_report(hurdle_store, since=NOW - timedelta(days=7))
    cards = page.split('class="cards"')[1].split("</div></div>")[0]
    assert "<b>4</b>logged questions" in cards  # 2 Elterngeld + 2 Osterfeuer in the last 7 days


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
    assert "<title>WeserBot hurdle report</title>" in dom.stdout
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
