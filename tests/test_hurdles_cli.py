"""`weserbot hurdles list|show|set-status|export` and `weserbot report` for the staff."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.hurdles import HurdleStore

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def log_file(tmp_path: Path, hurdle_answer) -> Path:
    """A hurdle log with three hurdles: 3× a car question (Lippe→Hameln, 10 days ago and now),
    2× a formula-looking no-topic question, 1× a dog tax question from 40 days ago."""
    path = tmp_path / "hurdles.sqlite"
    car = hurdle_answer("Ich wohne in Lügde und arbeite in Hameln: wo melde ich mein Auto an?",
                        "needs_place", "kfz-zulassung",
                        [("Lügde", "residence", None), ("Hameln", "business_site", None)])
    formula = hurdle_answer("=cmd|' /C calc'!A0 Wer genehmigt ein Osterfeuer?")
    dog = hurdle_answer("Hundesteuer Holzminden?", "outside_region", "hundesteuer",
                        [("Holzminden", "residence", None)])

    async def fill() -> None:
        async with await HurdleStore.open(path, "secret") as store:
            for asker, at in ((1, NOW - timedelta(days=10)), (2, NOW), (2, NOW)):
                await store.log_answer(car, asker=asker, at=at)
            for asker in (3, 4):
                await store.log_answer(formula, asker=asker, at=NOW)
            await store.log_answer(dog, asker=5, at=NOW - timedelta(days=40))

    asyncio.run(fill())
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_a_table_most_frequent_first(log_file, capsys):
    code, out, _ = run(capsys, "hurdles", "list", "--db", str(log_file))
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split()[:4] == ["ID", "STATUS", "COUNT", "ASKERS"]
    assert [line.split()[:4] for line in lines] == [
        ["1", "new", "3", "2"], ["2", "new", "2", "2"], ["3", "new", "1", "1"]]
    assert "kfz-zulassung" in lines[0] and "wo melde ich mein Auto an?" in lines[0]


def test_the_log_is_named_by_db_before_or_after_the_subcommand_as_a_path_or_url(log_file, capsys):
    reference = run(capsys, "hurdles", "list", "--db", str(log_file))
    assert reference[0] == 0
    assert run(capsys, "--db", str(log_file), "hurdles", "list") == reference
    assert run(capsys, "hurdles", "list", "--db", f"sqlite:///{log_file}") == reference
    code, out, _ = run(capsys, "--db", f"sqlite:///{log_file}", "report", "--out",
                       str(log_file.with_suffix(".html")))
    assert code == 0 and "report written to" in out


def test_an_unreachable_postgresql_database_is_reported_in_one_line(capsys):
    code, _, err = run(capsys, "--db", "postgresql://weser:pw@db.invalid/weserbot", "hurdles",
                       "list")
    assert code == 2 and "postgresql://weser@db.invalid/weserbot" in err  # no password shown
    assert "Traceback" not in err and "pw" not in err and len(err.strip().splitlines()) == 1


def test_an_unknown_kind_of_database_is_refused_clearly(capsys):
    code, _, err = run(capsys, "--db", "mysql://weser@db/weserbot", "hurdles", "list")
    assert code == 2 and "unknown database 'mysql'" in err and "postgresql://" in err


def test_list_filters_by_status_topic_district_and_dates(log_file, capsys):
    def ids(*filters: str) -> list[str]:
        code, out, _ = run(capsys, "hurdles", "list", "--db", str(log_file), *filters)
        assert code == 0
        return [line.split()[0] for line in out.splitlines()[1:] if line[:1] == " "]

    today = NOW.astimezone().date()
    assert ids("--topic", "hundesteuer") == ["3"]
    assert ids("--district", "lippe") == ["1"]
    assert ids("--district", "holzminden") == ["3"]
    assert ids("--since", str(today - timedelta(days=1))) == ["1", "2"]
    assert ids("--until", str(today - timedelta(days=20))) == ["3"]
    assert ids("--since", str(today - timedelta(days=10)), "--until",
               str(today - timedelta(days=10))) == ["1"]
    assert ids("--status", "forwarded") == []
    run(capsys, "hurdles", "set-status", "2", "forwarded", "--db", str(log_file))
    assert ids("--status", "forwarded") == ["2"]
    assert ids("--open") == ["1", "3"]


def test_show_prints_every_detail(log_file, capsys):
    code, out, _ = run(capsys, "hurdles", "--db", str(log_file), "show", "1")
    assert code == 0
    assert "Hurdle 1: Ich wohne in Lügde und arbeite in Hameln" in out
    for expected in ("status:         new", "kfz-zulassung / needs_place",
                     "3 question(s) from 2 asker(s)", "lippe→hameln-pyrmont", "NI, NW",
                     "first seen:", "last seen:", "examples:"):
        assert expected in out


def test_set_status_records_the_decision_and_a_note(log_file, capsys):
    code, out, _ = run(capsys, "hurdles", "set-status", "1", "in_review", "--note",
                       "Kfz: Wohnsitz entscheidet, Text ergänzen", "--db", str(log_file))
    assert (code, out.strip()) == (0, "hurdle 1: in_review – Kfz: Wohnsitz entscheidet, "
                                      "Text ergänzen")
    _, out, _ = run(capsys, "hurdles", "show", "1", "--db", str(log_file))
    assert "status:         in_review (since " in out
    assert "note:           Kfz: Wohnsitz entscheidet, Text ergänzen" in out


def test_wrong_ids_statuses_and_files_are_explained(log_file, tmp_path, capsys):
    assert run(capsys, "hurdles", "show", "99", "--db", str(log_file))[1:] == (
        "", "weserbot hurdles: no hurdle 99\n")
    code, _, err = run(capsys, "hurdles", "set-status", "99", "forwarded", "--db", str(log_file))
    assert code == 2 and "no hurdle 99" in err
    with pytest.raises(SystemExit):
        main(["hurdles", "set-status", "1", "done", "--db", str(log_file)])
    assert "invalid choice: 'done'" in capsys.readouterr().err
    code, _, err = run(capsys, "hurdles", "list", "--db", str(tmp_path / "typo.sqlite"))
    assert code == 2 and "no hurdle log at" in err
    assert not (tmp_path / "typo.sqlite").exists()
    code, _, err = run(capsys, "hurdles", "list")
    assert code == 2 and "--db FILE or --config FILE" in err


def test_export_csv_is_safe_to_open_in_a_spreadsheet(log_file, tmp_path, capsys):
    out_file = tmp_path / "hurdles.csv"
    code, out, _ = run(capsys, "hurdles", "export", "--format", "csv", "--out", str(out_file),
                       "--db", str(log_file))
    assert code == 0 and "3 hurdle(s) written" in out
    rows = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8"))))
    assert [(r["id"], r["count"], r["askers"]) for r in rows] == [
        ("1", "3", "2"), ("2", "2", "2"), ("3", "1", "1")]
    assert rows[0]["district_pairs"] == "lippe→hameln-pyrmont" and rows[0]["lands"] == "NI; NW"
    # A question starting with "=" would run as a formula in Excel/LibreOffice.
    assert rows[1]["title"] == "'=cmd|' /C calc'!A0 Wer genehmigt ein Osterfeuer?"


def test_export_json_to_standard_output_with_filters(log_file, capsys):
    code, out, _ = run(capsys, "hurdles", "export", "--format", "json", "--topic",
                       "kfz-zulassung", "--db", str(log_file))
    assert code == 0
    [hurdle] = json.loads(out)
    assert hurdle["title"].startswith("Ich wohne in Lügde")
    assert (hurdle["count"], hurdle["askers"], hurdle["status"]) == (3, 2, "new")
    assert hurdle["district_pairs"] == ["lippe→hameln-pyrmont"]
    assert datetime.fromisoformat(hurdle["last_seen"]) == NOW


def test_report_writes_one_html_file(log_file, tmp_path, capsys):
    out_file = tmp_path / "report.html"
    code, out, _ = run(capsys, "report", "--out", str(out_file), "--db", str(log_file))
    assert code == 0 and "report written to" in out
    page = out_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Ich wohne in Lügde" in page


def test_the_installed_command_uses_the_log_named_in_the_config(log_file, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"hurdles:\n  path: {log_file.name}\n  secret: secret\n"
                      "  retention_days: 30\n", encoding="utf-8")
    command = Path(sys.executable).with_name("weserbot")
    result = subprocess.run([str(command), "--config", str(config), "hurdles", "list"],
                            capture_output=True, text=True, env=os.environ, check=False)
    assert result.returncode == 0, result.stderr
    # Opening with the configured retention (30 days) purged the 40-day-old dog tax question.
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["1", "2"]


# -- from a hurdle to an answer: causes, teach, digest ------------------------------------------------
def test_list_filters_by_cause_and_show_names_it(capsys, log_file):
    code, out, _ = run(capsys, "hurdles", "list", "--db", str(log_file), "--cause", "cross_border")
    assert code == 0 and "wo melde ich mein Auto an" in out and "Osterfeuer" not in out
    code, out, _ = run(capsys, "hurdles", "show", "--db", str(log_file), "1")
    assert "cause:          cross_border" in out


def test_teach_adds_phrasings_to_the_overlay_and_the_base_stays_valid(capsys, tmp_path,
                                                                      hurdle_answer, kb_copy):
    from bot.engine import Engine

    path = tmp_path / "hurdles.sqlite"

    async def fill() -> None:
        async with await HurdleStore.open(path, "secret") as store:
            await store.log_answer(hurdle_answer("Wo beantrage ich eine Namensänderung? Hameln",
                                                 places=[("Hameln", "residence", None)]), asker=1)

    asyncio.run(fill())
    code, out, err = run(capsys, "hurdles", "teach", "1", "--topic", "personenstandsurkunden",
                         "--db", str(path), "--knowledge", str(kb_copy), "--by", "Erika")
    assert code == 0, err
    assert "taught to personenstandsurkunden: Namensänderung (de)" in out
    answer = Engine.load(kb_copy).ask("Namensänderung in Höxter")
    assert answer.reason == "answered" and answer.topic == "personenstandsurkunden"
    assert "Erika" not in (kb_copy / "taught.yaml").read_text(encoding="utf-8")
    code, out, _ = run(capsys, "hurdles", "teach", "1", "--topic", "personenstandsurkunden",
                       "--db", str(path), "--knowledge", str(kb_copy))
    assert code == 0 and "nothing new" in out
    code, _, err = run(capsys, "hurdles", "teach", "1", "--topic", "no-such-topic",
                       "--db", str(path), "--knowledge", str(kb_copy))
    assert code == 2 and "no topic 'no-such-topic'" in err
    code, out, _ = run(capsys, "hurdles", "show", "--db", str(path), "1")
    assert "taught:         personenstandsurkunden on" in out and "answered_by_update" in out


def test_a_broken_overlay_is_reported_by_check(capsys, kb_copy):
    (kb_copy / "taught.yaml").write_text(
        "taught:\n  - {topic: no-such-topic, lang: fr, phrase: Taubenplage}\n", encoding="utf-8")
    from bot.knowledge import KnowledgeError, load_knowledge

    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(kb_copy)
    problems = [str(p) for p in caught.value.problems]
    assert any("taught.yaml:2: taught[0].topic: no topic 'no-such-topic'" in p for p in problems)
    assert any("taught[0].lang: unknown language 'fr'" in p for p in problems)


def test_digest_prints_what_the_staff_chat_gets(capsys, log_file):
    code, out, _ = run(capsys, "hurdles", "digest", "--db", str(log_file))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "📬 Wochenüberblick Hürden (letzte 7 Tage)"
    assert lines[2].startswith("Ursachen: grenzüberschreitend (2)")
    assert lines[3] == "Grenzüberschreitend: lippe→hameln-pyrmont (2), NI–NW (2)"
    code, out, _ = run(capsys, "hurdles", "digest", "--db", str(log_file), "--lang", "en")
    assert out.startswith("📬 Weekly hurdle digest (last 7 days)")
