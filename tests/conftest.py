"""Shared fixtures. Each feature keeps its fixtures in its own marked block."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.knowledge import BUNDLED

# --- engine and knowledge base -------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine on the bundled knowledge base, loaded once for the whole run."""
    return Engine.load()


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge base, for tests that break it on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(BUNDLED, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def ask(engine: Engine, question: str) -> dict:
    """The engine's answer as the JSON object of `weserbot ask --json`."""
    return engine.ask(question).to_json()
