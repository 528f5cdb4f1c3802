"""The compiled engine cache of one-off commands (bot/engine_cache.py): the same answers as the
engine loaded from the YAML files, rebuilt when anything it was made from changes, and never a
reason for a command to fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import engine_cache, lexicon
from bot.engine import Engine
from bot.knowledge import KnowledgeError

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Wo melde ich mein Auto in Hameln an?"
HEAVY = ("telegram", "aiosqlite", "wordfreq")
"""What a one-off `weserbot ask` does not import once the cache is there."""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    """An empty cache folder of this test; the lexicon answers from wordfreq again afterwards."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    yield tmp_path / "xdg" / "weserbot"
    lexicon.use_frequent_words(None)


def questions(*names: str) -> list[str]:
    out = []
    for name in names:
        for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                out.append(json.loads(line)["q"])
    return out


def test_the_cached_engine_answers_every_eval_question_as_the_loaded_one(cache, engine):
    engine_cache.load_engine_cached()  # builds and stores
    cached = engine_cache.load_engine_cached()  # reads
    assert len(list(cache.glob("wordfreq-*.pickle"))) == len(list(cache.glob("engine-*.pickle"))) == 1
    for q in questions("questions.jsonl", "real_questions.jsonl", "catalogue.jsonl"):
        assert cached.ask(q).to_json() == engine.ask(q).to_json(), q


def test_the_word_table_says_what_wordfreq_says():
    from wordfreq import get_frequency_dict

    table = lexicon.FrequentWords.from_wordfreq(lexicon.FREQUENT_FLOOR)
    words = [w for lang in lexicon.LANGUAGES for w in list(get_frequency_dict(lang))[::97]]
    words += ["straße", "größe", "hamlen", "holzmindn", "lügde", "lage", "enger", "halle",
              "diesen", "passiert", "wohngeld", "qqqq", "ß"]

    def answers(word: str) -> tuple[bool, ...]:
        return (lexicon.is_real_word(word), *(lexicon.is_ordinary_word(word, population, lang)
                for population in (1_000, 20_000, 500_000) for lang in lexicon.LANGUAGES))

    expected = [answers(word) for word in words]
    lexicon.use_frequent_words(table)
    try:
        assert [answers(word) for word in words] == expected
    finally:
        lexicon.use_frequent_words(None)
    assert table.value("e-mail") is None and table.value("31785") is None  # wordfreq's to answer


def test_a_changed_knowledge_file_is_read_again(cache, kb_copy: Path):
    before = engine_cache.load_engine_cached(kb_copy).ask(QUESTION).text
    topic = kb_copy / "topics" / "kfz-zulassung.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace(
        "Kfz-Zulassung (Auto anmelden", "Autozulassung (Auto anmelden"), encoding="utf-8")
    after = engine_cache.load_engine_cached(kb_copy).ask(QUESTION).text
    assert "Kfz-Zulassung (Auto anmelden" in before and "Autozulassung (Auto anmelden" in after


def test_an_invalid_base_is_refused_as_without_the_cache(cache, kb_copy: Path):
    engine_cache.load_engine_cached(kb_copy)
    (kb_copy / "topics" / "wohngeld.yaml").write_text("id: [wohngeld\n")
    with pytest.raises(KnowledgeError):
        engine_cache.load_engine_cached(kb_copy)


def test_a_damaged_cache_file_means_a_normal_load(cache, engine):
    engine_cache.load_engine_cached()
    for path in cache.iterdir():
        path.write_bytes(path.read_bytes()[:1000])
    assert engine_cache.load_engine_cached().ask(QUESTION).to_json() == engine.ask(QUESTION).to_json()
    assert engine_cache._read(next(cache.glob("engine-*")), "no such key") is None


def test_an_unwritable_cache_folder_means_a_normal_load(tmp_path: Path, monkeypatch, engine):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    try:
        assert isinstance(engine_cache.load_engine_cached(), Engine)
    finally:
        lexicon.use_frequent_words(None)


def imported_by_ask(env: dict[str, str]) -> set[str]:
    """The top-level packages of HEAVY that `weserbot ask QUESTION` imported, in a fresh process."""
    script = ("import sys; from bot.cli import main; main(['ask', sys.argv[1]]); "
              "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[2:])))")
    run = subprocess.run([sys.executable, "-c", script, QUESTION, *HEAVY], capture_output=True,
                         text=True, env=env, timeout=120, check=True)
    assert "Kfz-Zulassung" in run.stdout
    return set(json.loads(run.stdout.splitlines()[-1].replace("'", '"')))


def test_a_one_off_ask_imports_neither_telegram_nor_aiosqlite_nor_wordfreq(tmp_path: Path):
    import os

    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    assert not imported_by_ask(env) & {"telegram", "aiosqlite"}  # the first one builds the cache
    assert imported_by_ask(env) == set()
