"""`weserbot bench` and the knowledge-base generator behind it. No timing assertions: a benchmark
reports numbers, the tests only check that it runs and that what it measures is valid."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import bench, kbgen
from bot.knowledge import BUNDLED, load_knowledge
from bot.normalize import fold

ROOT = Path(__file__).resolve().parent.parent


def weserbot(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """The `weserbot` console script (bot.cli:main) in a separate process."""
    entry = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", entry, *args], text=True, capture_output=True,
                          cwd=ROOT, timeout=timeout)


def names(kb) -> set[str]:
    return {fold(n) for m in kb.municipalities.values() for n in (m.name, *m.aliases, *m.localities)}


@pytest.fixture(scope="module")
def real():
    return load_knowledge(BUNDLED)


def test_generated_base_is_valid_and_factor_times_the_size(tmp_path: Path, real):
    out = tmp_path / "kb2"
    kbgen.generate(BUNDLED, 2, out, reserved=["Ich wohne in 99999 Nirgendwo"])
    big = load_knowledge(out)  # raises KnowledgeError if the generated base is invalid

    assert len(big.topics) == 2 * len(real.topics)
    assert len(big.municipalities) == 2 * len(real.municipalities)
    assert set(real.topics) <= set(big.topics) and set(real.municipalities) <= set(big.municipalities)
    assert big.districts.keys() == real.districts.keys()  # room enough: no synthetic districts
    synthetic = [m for a, m in big.municipalities.items() if a not in real.municipalities]
    assert all(m.ags.startswith(big.districts[m.district].key) for m in synthetic)
    real_codes = {c for m in real.municipalities.values() for c in m.postcodes}
    real_codes |= {c for p in real.outside for c in p.postcodes}
    new_codes = {c for m in synthetic for c in m.postcodes}
    assert new_codes and not new_codes & real_codes and "99999" not in new_codes
    assert not (names(big) - names(real)) & names(real)
    assert "nirgendwo" not in names(big)
    new_topics = [t for tid, t in big.topics.items() if tid not in real.topics]
    assert all(len(t.phrases["de"]) >= 3 and len(t.phrases["en"]) >= 3 for t in new_topics)
    assert {t.office_kind for t in new_topics} <= {t.office_kind for t in real.topics.values()}


def test_generated_base_grows_into_new_districts_when_the_keys_are_full(tmp_path, monkeypatch,
                                                                        real):
    monkeypatch.setattr(kbgen, "MAX_PER_DISTRICT", 30)  # as if each district key were nearly full
    out = tmp_path / "kb2"
    kbgen.generate(BUNDLED, 2, out)
    big = load_knowledge(out)
    extra = set(big.districts) - set(real.districts)
    assert extra and len(big.municipalities) == 2 * len(real.municipalities)
    assert any(m.district in extra for m in big.municipalities.values())


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile(values, 99) == 99.0
    assert bench.percentile([3.0], 99) == 3.0


def test_bench_json_reports_the_numbers_of_one_size():
    run = weserbot("bench", "--json", "--sizes", "1", "--repeat", "1", "--no-e2e")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    [row] = result["engine"]
    for key in ("topics", "municipalities", "place_names", "load_s", "rss_mb", "median_ms",
                "p99_ms", "q_per_s", "same_answers"):
        assert row[key] is not None, key
    assert row["size"] == 1 and row["same_answers"] == 1.0
    assert {t["target"] for t in result["targets"]} >= {"engine p99 at 1x <= 5 ms",
                                                         "start-up at 1x <= 1 s"}
    one_off = result["one_off"]
    assert one_off["ask_s"] > 0 and one_off["baseline"] == "import yaml, rapidfuzz"
    # The median of the paired ratios: near, not equal to, the ratio of the two medians.
    assert one_off["ratio"] == pytest.approx(one_off["ask_s"] / one_off["baseline_s"], rel=0.5)


def test_bench_quick_prints_the_table_and_the_end_to_end_line():
    run = weserbot("bench", "--quick", timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["size", "topics", "phrases", "places", "names", "load_s",
                                "rss_mb", "median_ms", "p99_ms", "q_per_s", "same"]
    assert [line.split()[0] for line in lines[1:3]] == ["1x", "10x"]
    assert any(line.startswith("one-off ask: ") and "× import yaml, rapidfuzz (" in line
               for line in lines)
    e2e = [line for line in lines if line.startswith("e2e:")]
    # Skipped is a failure: the fake Bot API and the application are part of the package.
    assert e2e and "skipped" not in e2e[0], e2e
    assert "msg/s" in e2e[0] and "lost 0" in e2e[0]


def test_end_to_end_is_skipped_with_a_reason_when_its_parts_are_missing(monkeypatch):
    monkeypatch.setattr(bench, "FAKE_BOT_API", "bot.no_such_module")
    result = bench.e2e_worker(None, ["Hallo"], 1, 1, False)
    assert "fake Bot API" in result["skipped"]
    assert bench.format_e2e(result).startswith("e2e: skipped: no fake Bot API server")
