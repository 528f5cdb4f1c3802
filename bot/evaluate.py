"""Measure the engine on a labelled question set (`weserbot eval FILE`)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.answer import Answer, Reason
from bot.engine import Engine
from bot.normalize import fold

PLACE_FREE = "place_free"
"""Categories starting so are real sentences that name no place."""
REAL = "real_"
"""Categories starting so are real questions from public pages, verbatim, with their source."""
REAL_BARS = frozenset({"wrong among answered", "region place in place-free text",
                       "outside town given an office"})
"""On real questions only precision gates: a wrong office is a defect, a question back is not."""

REASONS = {r.value for r in Reason}

BARS = {
    "topic right": (">=", 0.95),
    "district right": (">=", 0.95),
    "asked for the right role": (">=", 0.90),
    "outside region recognised": (">=", 0.85),
    "off-topic refused": (">=", 0.95),
    "small talk not logged": (">=", 0.95),
    "unknown admin question logged": (">=", 0.85),
    "wrong confident answers": ("<=", 0.03),
    "wrong among answered": ("<=", 0.02),
    "region place in place-free text": ("<=", 0.005),
    "outside town given an office": ("<=", 0.0),
}
"""The bars the engine must reach; `weserbot eval` exits 1 below any of them."""


@dataclass(frozen=True)
class Case:
    line: int
    q: str
    category: str
    reason: str | None
    """None for a sentence that names no place (a place-free set): only its places are judged."""
    topic: str | None
    district: str | None
    needs: str | None


@dataclass
class Report:
    total: int = 0
    rates: dict[str, tuple[int, int]] = field(default_factory=dict)
    categories: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    errors: list[tuple[Case, Answer]] = field(default_factory=list)
    gated: frozenset[str] = frozenset(BARS)
    """The bars this set must reach; the others are reported."""

    def rate(self, name: str) -> float | None:
        good, n = self.rates.get(name, (0, 0))
        return good / n if n else None

    @property
    def passed(self) -> bool:
        for name, (op, bar) in BARS.items():
            value = self.rate(name) if name in self.gated else None
            if value is not None and (value < bar if op == ">=" else value > bar):
                return False
        return True


def load_cases(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            row = json.loads(line)
            category = row.get("category", "other")
            reason = None if category.startswith(PLACE_FREE) else row["reason"]
            case = Case(n, row["q"], category, reason,
                        row.get("topic"), row.get("district"), row.get("needs"))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{n}: not a labelled question: {exc}") from exc
        if case.reason is not None and case.reason not in REASONS:
            raise ValueError(f"{path}:{n}: reason: unknown '{case.reason}'")
        cases.append(case)
    return cases


OUTSIDE_TOWN_SIZE = 10_000
OUTSIDE_TEMPLATES = (
    ("de", "kfz-zulassung", "Kfz anmelden, ich wohne in {town}"),
    ("de", "wohngeld", "{town} Wohngeld beantragen"),
    ("en", "fuehrerschein", "I live in {town}, where do I exchange my driving licence?"),
)
"""Questions asked from every town outside the region: none may get an office inside."""


def outside_town_cases(engine: Engine) -> list[Case]:
    """Every German town of 10,000+ residents outside the region whose name no place of the
    region shares, asked in a few phrasings (from the knowledge base's gazetteer)."""
    names = engine.understander.places.names
    cases = []
    for place in engine.kb.outside:
        if place.is_land or place.population < OUTSIDE_TOWN_SIZE:
            continue
        if any(r.inside for r in names.get(fold(place.name), ())):
            continue
        for _lang, topic, template in OUTSIDE_TEMPLATES:
            q = template.format(town=place.name)
            cases.append(Case(0, q, "outside_town", "outside_region", topic, None, None))
    return cases


def is_correct(case: Case, a: Answer) -> bool:
    if a.reason != case.reason:
        return False
    if case.reason in ("answered", "needs_place", "outside_region") and a.topic != case.topic:
        return False
    if case.reason == "answered" and a.district != case.district:
        return False
    return not (case.reason == "needs_place" and a.needs != case.needs)


def evaluate(engine: Engine, cases: list[Case]) -> Report:
    report = Report(total=len(cases))
    if cases and all(c.category.startswith(REAL) for c in cases):
        report.gated = REAL_BARS
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def count(name: str, ok: bool) -> None:
        tallies[name][0] += ok
        tallies[name][1] += 1

    for case in cases:
        a = engine.ask(case.q)
        if case.reason is None:  # a sentence that names no place
            region = any(p["districts"] for p in a.places)
            count("region place in place-free text", region)
            count("any place in place-free text", bool(a.places))
            report.categories[case.category][0] += not a.places
            report.categories[case.category][1] += 1
            if a.places:
                report.errors.append((case, a))
            continue
        ok = is_correct(case, a)
        report.categories[case.category][0] += ok
        report.categories[case.category][1] += 1
        if not ok:
            report.errors.append((case, a))
        if case.topic:
            count("topic right", a.topic == case.topic)
        if case.reason == "answered":
            count("district right", a.answered and a.district == case.district)
        if case.reason == "needs_place":
            count("asked for the right role", a.reason == "needs_place" and a.needs == case.needs)
        if case.reason == "outside_region":
            count("outside region recognised", a.reason == "outside_region")
        if case.reason == "off_topic":
            count("off-topic refused", not a.answered and not a.logs_hurdle)
        if case.reason == "small_talk":
            count("small talk not logged", not a.answered and not a.logs_hurdle)
        if case.reason == "no_topic":
            count("unknown admin question logged", a.logs_hurdle and not a.answered)
        if case.reason not in ("off_topic", "small_talk"):
            count("admin question without a topic", a.reason == "no_topic")
        wrong = a.answered and not (case.reason == "answered" and a.topic == case.topic
                                    and a.district == case.district)
        count("wrong confident answers", wrong)
        if a.answered:
            count("wrong among answered", wrong)
        if case.category == "outside_town":
            count("outside town given an office", a.answered)
        count("exactly right", ok)
    report.rates = {k: (v[0], v[1]) for k, v in tallies.items()}
    return report


def print_report(report: Report, show_errors: bool = False) -> None:
    print(f"{report.total} questions")
    print(f"{'measure':34} {'rate':>7} {'n':>5}  bar")
    for name in [*BARS, "any place in place-free text", "admin question without a topic",
                 "exactly right"]:
        good, n = report.rates.get(name, (0, 0))
        if not n:
            continue
        rate = f"{100 * good / n:6.1f}%" if n else "     - "
        op, bar = BARS.get(name, ("", None))
        verdict = ""
        if bar is not None and n and name in report.gated:
            ok = good / n >= bar if op == ">=" else good / n <= bar
            verdict = f"{op} {100 * bar:g}%  {'ok' if ok else 'FAIL'}"
        elif bar is not None:
            verdict = "(reported)"
        print(f"{name:34} {rate:>7} {n:5}  {verdict}")
    print(f"\n{'category':20} {'right':>7} {'n':>5}")
    for category, (good, n) in sorted(report.categories.items()):
        print(f"{category:20} {100 * good / n:6.1f}% {n:5}")
    if show_errors and report.errors:
        print("\nwrong:")
        for case, a in report.errors:
            if case.reason is None:
                print(f"  line {case.line} [{case.category}] {case.q!r}\n"
                      f"    found places {[p['text'] for p in a.places]}")
                continue
            print(f"  line {case.line} [{case.category}] {case.q!r}\n"
                  f"    expected {case.reason}/{case.topic}/{case.district}/{case.needs}, "
                  f"got {a.reason}/{a.topic}/{a.district}/{a.needs} ({a.confidence})")
    print(f"\nresult: {'PASS' if report.passed else 'FAIL'}")
