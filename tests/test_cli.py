"""The `weserbot` command as a user runs it, in a separate process, from any directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def weserbot(*args: str, stdin: str | None = None, cwd: Path | None = None
             ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, timeout=120)


def test_ask_prints_a_readable_answer_from_any_directory(tmp_path: Path):
    run = weserbot("ask", "Ich wohne in Lügde – wo melde ich mein Auto an?", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Lügde" in run.stdout and "Zulassung" in run.stdout


def test_ask_json_follows_the_design_contract():
    run = weserbot("ask", "--json", "Ich wohne in Lügde und arbeite in Hameln – wo verlängere "
                   "ich meine Aufenthaltserlaubnis?")
    answer = json.loads(run.stdout)
    for key in ("question", "lang", "answered", "topic", "district", "municipality", "role",
                "needs", "office", "reason", "logs_hurdle", "confidence", "text"):
        assert key in answer
    assert (answer["district"], answer["reason"]) == ("lippe", "answered")


def test_batch_answers_each_line_on_its_own_in_order():
    questions = ["Wo beantrage ich Wohngeld?", "Lügde", "Hallo", "Kfz-Zulassung 31785"]
    run = weserbot("ask", "--json", "--batch", "-", stdin="\n".join(questions) + "\n")
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [a["question"] for a in lines] == questions
    assert [a["reason"] for a in lines][0] == "needs_place"
    assert lines[1]["answered"] is False  # no conversation state across lines
    assert (lines[3]["topic"], lines[3]["district"]) == ("kfz-zulassung", "hameln-pyrmont")


def test_check_reports_problems_and_exits_1(kb_copy: Path):
    (kb_copy / "topics" / "wohngeld.yaml").write_text("id: [wohngeld\n")
    run = weserbot("--knowledge", str(kb_copy), "check")
    assert run.returncode == 1
    assert "knowledge/topics/wohngeld.yaml:" in run.stdout


def test_check_passes_on_the_bundled_base():
    run = weserbot("check")
    assert run.returncode == 0 and "knowledge base OK" in run.stdout


def test_ask_refuses_to_start_on_an_invalid_base(kb_copy: Path):
    (kb_copy / "topics" / "wohngeld.yaml").write_text("id: [wohngeld\n")
    run = weserbot("--knowledge", str(kb_copy), "ask", "Hallo")
    assert run.returncode == 1 and "wohngeld.yaml:" in run.stderr and not run.stdout


def test_eval_prints_rates_and_passes_its_bars():
    run = weserbot("eval", str(ROOT / "eval" / "questions.jsonl"))
    assert "topic right" in run.stdout and "wrong confident answers" in run.stdout
    assert run.returncode == 0, run.stdout[-2000:]


def test_common_options_work_before_and_after_the_subcommand(kb_copy: Path):
    (kb_copy / "districts.yaml").write_text("districts: [", encoding="utf-8")
    before = weserbot("--knowledge", str(kb_copy), "check")
    after = weserbot("check", "--knowledge", str(kb_copy))
    assert before.returncode == after.returncode == 1
    assert before.stdout == after.stdout and "districts.yaml" in after.stdout
    assert after.stdout.strip().endswith("1 problem(s) found")  # one syntax error, no cascade


def test_a_config_after_a_nested_subcommand_is_read(tmp_path: Path):
    config = tmp_path / "c.yaml"
    config.write_text(f"hurdles:\n  path: {tmp_path / 'h.sqlite'}\n", encoding="utf-8")
    run = weserbot("hurdles", "list", "--config", str(config))
    assert "unrecognized arguments" not in run.stderr
    assert str(tmp_path / "h.sqlite") in run.stdout + run.stderr


# -- --db: the database, before or after the subcommand ----------------------------------------------
def effective(*argv: str):
    """The configuration `weserbot ARGV` works with (parsed as main parses it)."""
    from bot.cli import build_parser, chosen_subcommand, effective_config

    return effective_config(build_parser(chosen_subcommand(list(argv))).parse_args(list(argv)))


@pytest.mark.parametrize("argv", [
    ("--db", "postgresql://weser@db:5432/weserbot", "hurdles", "list"),
    ("hurdles", "list", "--db", "postgresql://weser@db:5432/weserbot"),
    ("hurdles", "--db", "postgresql://weser@db:5432/weserbot", "list"),
    ("--db", "postgresql://weser@db:5432/weserbot", "report"),
    ("report", "--db", "postgresql://weser@db:5432/weserbot"),
    ("run", "--db", "postgresql://weser@db:5432/weserbot"),
    ("--db", "postgresql://weser@db:5432/weserbot", "ask", "Hallo"),
])
def test_db_before_or_after_the_subcommand_sets_the_database_url(argv):
    assert effective(*argv).database_url == "postgresql://weser@db:5432/weserbot"


def test_db_wins_over_the_config_file_and_the_rest_of_the_file_stays(tmp_path: Path):
    config = tmp_path / "c.yaml"
    config.write_text("database:\n  url: postgresql://file@db/weserbot\nstaff:\n  language: en\n",
                      encoding="utf-8")
    from_file = effective("--config", str(config), "report")
    assert from_file.database_url == "postgresql://file@db/weserbot"
    for argv in (("--config", str(config), "--db", "sqlite:///other.sqlite", "report"),
                 ("report", "--db", "sqlite:///other.sqlite", "--config", str(config))):
        config_now = effective(*argv)
        assert config_now.database_url == "sqlite:///other.sqlite"
        assert config_now.staff_language == "en"


def test_db_as_a_plain_path_is_that_sqlite_file(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = effective("hurdles", "list", "--db", "logs/h.sqlite")
    assert config.database_url == f"sqlite:///{tmp_path / 'logs' / 'h.sqlite'}"
    assert config.hurdles.path == tmp_path / "logs" / "h.sqlite"


def test_knowledge_before_or_after_the_subcommand_sets_the_knowledge_dir(tmp_path: Path):
    for argv in (("--knowledge", str(tmp_path), "eval", "x.jsonl"),
                 ("eval", "x.jsonl", "--knowledge", str(tmp_path))):
        assert effective(*argv).knowledge_dir == tmp_path


def test_hurdle_commands_read_the_log_named_by_db_before_the_subcommand(tmp_path: Path):
    run = weserbot("--db", str(tmp_path / "missing.sqlite"), "hurdles", "list")
    assert run.returncode == 2 and f"no hurdle log at {tmp_path / 'missing.sqlite'}" in run.stderr


# -- subcommands: all listed, each one's module loaded only when it runs ------------------------------
def test_help_lists_every_subcommand_without_loading_their_modules():
    script = ("import sys; from bot.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
              "print(sorted(m for m in ('bot.hurdle_commands', 'bot.run_command', 'bot.bench', "
              "'bot.engine', 'telegram', 'aiosqlite') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True)
    for name in ("check", "ask", "eval", "hurdles", "report", "run", "bench", "settings"):
        assert f"\n    {name} " in run.stdout
    assert run.stdout.splitlines()[-1] == "[]"


def test_a_subcommand_shows_its_own_options():
    hurdles = weserbot("hurdles", "--help")
    assert "list,show,set-status,export,teach,digest" in hurdles.stdout
    assert "--db URL" in hurdles.stdout and "--config FILE" in hurdles.stdout
    assert "--sizes" in weserbot("bench", "--help").stdout
