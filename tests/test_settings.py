"""The settings table: every threshold and limit named once, explained, and documented as it is."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SETTINGS, Area, setting

ROOT = Path(__file__).resolve().parent.parent
HEADER = "| Setting | Default | Unit | Area | What it decides |"


def readme_table() -> str:
    """The settings table as README.md carries it: the header and the table lines after it."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end]) + "\n"


def test_names_are_unique_lower_case_words():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(name.isidentifier() and name == name.lower() for name in names)


@pytest.mark.parametrize("entry", SETTINGS, ids=lambda s: s.name)
def test_every_setting_says_what_it_decides_and_in_what_unit(entry):
    assert entry.help.strip() and entry.help.rstrip().endswith((".", ")"))
    assert entry.unit.strip()
    assert isinstance(entry.area, Area)
    assert isinstance(entry.default, int | float) and not isinstance(entry.default, bool)


def test_every_setting_is_read_by_name_somewhere_in_the_bot():
    read = set()
    for package in ("bot", "handlers"):
        for path in (ROOT / package).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "setting"):
                    assert isinstance(node.args[0], ast.Constant), f"{path}: name it literally"
                    read.add(node.args[0].value)
    assert read == {s.name for s in SETTINGS}


def test_an_unknown_name_is_an_error_not_a_silent_default():
    with pytest.raises(KeyError):
        setting("topic_ask_typo")


def test_readme_carries_the_table_that_weserbot_settings_prints():
    run = subprocess.run([sys.executable, "-m", "bot.cli", "settings", "--markdown"],
                         capture_output=True, text=True, timeout=60, check=True)
    assert readme_table() == run.stdout, "README.md: paste `weserbot settings --markdown`"


def test_the_plain_listing_names_every_setting_with_its_default():
    run = subprocess.run([sys.executable, "-m", "bot.cli", "settings"],
                         capture_output=True, text=True, timeout=60, check=True)
    heads = [line.split()[:2] for line in run.stdout.splitlines() if not line.startswith(" ")]
    assert heads == [[s.name, str(s.default)] for s in SETTINGS]
