"""Office facts that hold: each row of eval/office_facts.jsonl names a question, the office the
authority's own page says is responsible, and that page. The engine must answer with that office."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.engine import Engine

FACTS = Path(__file__).resolve().parent.parent / "eval" / "office_facts.jsonl"


def load_facts() -> list[dict]:
    rows = [json.loads(line) for line in FACTS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return rows


@pytest.mark.parametrize("fact", load_facts(), ids=lambda f: f["q"][:60])
def test_the_answer_names_the_office_its_source_names(engine: Engine, fact: dict):
    answer = engine.ask(fact["q"])
    assert (answer.reason, answer.topic) == ("answered", fact["topic"]), answer.text
    assert answer.office.id == fact["office_id"], f"{answer.office.id}: {answer.office.name}"


def test_the_facts_table_is_large_sourced_and_covers_every_district(engine: Engine):
    facts = load_facts()
    assert len(facts) >= 60
    assert all(f["url"].startswith(("https://", "http://")) for f in facts)
    districts = {engine.ask(f["q"]).district for f in facts}
    assert set(engine.kb.districts) <= districts
