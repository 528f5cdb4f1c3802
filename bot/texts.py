"""What the bot says, per language, from `knowledge/texts.yaml`: the model, its loading, its checks.

Nothing a person reads is written in Python: the engine, the renderers and the Telegram handlers
look every text up here by key. The list of districts ({region}) is built from districts.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter
from typing import Any

from bot.grouping import Cause
from bot.hurdle_status import Status
from bot.normalize import fold
from bot.yamlfile import LineDict, Problem, YamlError, load_yaml

LANGS = ("de", "en")
PLURAL_FORMS = ("one", "other")
HTML_PREFIX = "telegram."
"""Texts under these keys are Telegram HTML (<b>, <i>); also `staff.`."""
_HTML_TAG = re.compile(r"<(/?)([a-z]+)>")
_HTML_TAGS = frozenset({"b", "i"})
_GROUPING = {"de": ".", "en": ","}

REQUIRED = (
    "answer.responsible", "answer.because", "answer.bring", "answer.links", "answer.source",
    "answer.as_of", "answer.hours", "answer.phone", "answer.email", "answer.web",
    "answer.unsure", "answer.alternatives", "answer.other_places", "answer.which_topic",
    "answer.or", "answer.quote", "answer.in_land", "answer.needs_place", "answer.choose",
    "answer.outside_region", "answer.place_noted", "answer.place_outside", "answer.no_topic",
    "answer.off_topic", "answer.empty", "answer.small_talk", "answer.notes", "answer.derived",
    "cross.home_work", "cross.move", "cross.route", "cross.places", "cross.land",
    "telegram.start", "telegram.help", "telegram.help_staff", "telegram.privacy",
    "telegram.forget_done", "telegram.forget_partly", "telegram.unknown_command",
    "telegram.language_pick", "telegram.language_set", "telegram.topics", "telegram.previous",
    "telegram.next", "telegram.helpful", "telegram.website", "telegram.details", "telegram.less",
    "telegram.other_place", "telegram.other_topic", "telegram.cancel_button",
    "telegram.send_location", "telegram.place_placeholder", "telegram.alternatives",
    "telegram.cancelled", "telegram.nothing_open", "telegram.still_open",
    "telegram.which_place", "telegram.which_topic", "telegram.thanks_up", "telegram.thanks_down",
    "telegram.rated_already", "telegram.done_already", "telegram.gone", "telegram.not_yours",
    "telegram.media", "telegram.location_noted", "telegram.location_unknown",
    "telegram.location_off", "telegram.flood", "telegram.error",
    "staff.only", "staff.store_down", "staff.hurdles_title", "staff.hurdles_none",
    "staff.hurdle_usage", "staff.hurdle_missing", "staff.status_set", "staff.back",
    "staff.stats_title", "staff.new_hurdle", "staff.reload_done", "staff.reload_failed",
    "staff.no_topic", "staff.cause_line", "staff.answer_line", "staff.waiting_line",
    "staff.taught_line", "staff.handoff", "staff.reply_usage", "staff.reply_delivered",
    "staff.reply_nobody", "staff.reply_failed", "staff.teach_usage", "staff.teach_unknown",
    "staff.teach_done", "staff.teach_nothing", "staff.teach_failed", "staff.teach_draft",
    "staff.digest_title", "staff.digest_new", "staff.digest_causes", "staff.digest_cross",
    "staff.digest_waiting", "staff.digest_none",
    "telegram.handoff_button", "telegram.handoff_consent", "telegram.handoff_yes",
    "telegram.handoff_no", "telegram.handoff_sent", "telegram.handoff_already",
    "telegram.handoff_declined", "telegram.handoff_unavailable", "telegram.staff_answer",
    "report.title", "report.intro", "report.start", "report.today", "report.card.logged",
    "report.card.askers", "report.card.hurdles", "report.card.open", "report.card.cross",
    "report.card.week", "report.cross", "report.cross_note", "report.cross_districts",
    "report.cross_lands", "report.causes", "report.top", "report.top_note", "report.topics",
    "report.districts", "report.districts_note", "report.time", "report.status",
    "report.statuses", "report.nothing", "report.no_open", "report.no_cross", "report.no_topic",
    "report.other", "report.note", "report.answer", "report.examples", "report.week_of",
    "report.per_week", *(f"report.col.{c}" for c in ("id", "question", "cause", "topic",
                                                     "count", "askers", "seen", "districts",
                                                     "lands", "status")),
)
"""Keys the code looks up; `weserbot check` reports any that are missing."""
ROLE_TEXTS = ("name", "why", "question")
"""Every role needs these (role.<role>.<what>); why_other and question_other are optional."""
COMMANDS = ("start", "help", "topics", "cancel", "language", "privacy", "forget")
STAFF_COMMANDS = ("reload", "hurdles", "hurdle", "stats", "reply", "teach")
STATUSES = tuple(Status)
STATS = ("entries", "askers", "hurdles", "last_7_days", "by_status", "by_reason", "by_topic",
         "by_cause", "cross_districts", "cross_lands")
CAUSES = tuple(Cause)


@dataclass
class Texts:
    """Every text per key and language; `get` fills in placeholders, {region} and plural forms."""

    entries: dict[str, dict[str, str | dict[str, str]]] = field(default_factory=dict)
    small_talk: list[tuple[str, tuple[str, ...], dict[str, str]]] = field(default_factory=list)
    """(kind, folded words, reply per language), in the order they are tried."""
    region: dict[str, str] = field(default_factory=dict)
    """The list of the region's districts, per language."""

    def has(self, key: str) -> bool:
        return key in self.entries

    def get(self, lang: str, key: str, **values: Any) -> str:
        """The text `key` in `lang` (German when missing), placeholders filled in. A `count`
        value chooses the plural form and is written with the language's digit grouping."""
        forms = self.entries.get(key) or {}
        text = forms.get(lang) or forms.get("de") or key
        if isinstance(text, dict):
            count = values.get("count", 0)
            text = text["one"] if count == 1 else text["other"]
        if "count" in values and isinstance(values["count"], int):
            values = {**values, "count": number(lang, values["count"])}
        if "{" not in text:
            return text
        return text.format(**{"region": self.region.get(lang, ""), **values})

    def small_talk_kind(self, message: str) -> str | None:
        """The kind of a short social message ("Danke" → thanks), None for a greeting."""
        words = f" {fold(message)} "
        for kind, triggers, _ in self.small_talk:
            if any(f" {w} " in words for w in triggers):
                return kind
        return None

    def small_talk_reply(self, lang: str, kind: str | None) -> str:
        """The reply to small talk of `kind`; the greeting for None or an unknown kind."""
        for name, _, reply in self.small_talk:
            if name == kind:
                return reply.get(lang) or reply.get("de") or ""
        return self.get(lang, "answer.small_talk")


def number(lang: str, value: int) -> str:
    """An integer with the language's thousands separator (1.234 / 1,234)."""
    return f"{value:,}".replace(",", _GROUPING.get(lang, ","))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def load_texts(path: Path, shown_as: str, district_names: dict[str, list[str]],
               land_names: dict[str, dict[str, str]], roles: tuple[str, ...]
               ) -> tuple[Texts, list[Problem]]:
    """Read texts.yaml; `district_names` maps a Land code to its districts' names (in order);
    every one of `roles` needs its texts."""
    problems: list[Problem] = []

    def error(line: int, where: str, message: str) -> None:
        problems.append(Problem(shown_as, line, where, message))

    texts = Texts()
    if not path.exists():
        error(1, "file", "missing: every text a person reads lives here")
        return texts, problems
    try:
        data = load_yaml(path, shown_as)
    except YamlError as exc:
        return texts, [exc.problem]
    if not isinstance(data, LineDict):
        error(1, "file", "must be a mapping (key: value)")
        return texts, problems
    texts.entries = _read_entries(data.get("texts"), data.line_of("texts") if "texts" in data
                                  else 1, error)
    region = data.get("region")
    region_forms = _read_entries(region, data.line_of("region") if "region" in data else 1,
                                 error, "region.", ("land", "and", "join"))
    for lang in LANGS:
        texts.region[lang] = _region_list(lang, region_forms, district_names, land_names)
    texts.small_talk = _read_small_talk(data.get("small_talk"), error)
    _check_required(texts, error, data.line_of("texts") if "texts" in data else 1, roles)
    return texts, problems


def _read_entries(section: Any, line: int, error, prefix: str = "texts.",
                  required: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    if not isinstance(section, LineDict):
        error(line, prefix.rstrip("."), "must be a mapping of keys to {de: …, en: …}")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for key in required:
        if key not in section:
            error(line, f"{prefix}{key}", "is missing")
    for key, forms in section.items():
        entry = _read_forms(forms, f"{prefix}{key}", section.line_of(key), error)
        if entry is not None:
            out[key] = entry
    return out


def _read_forms(forms: Any, where: str, at: int, error) -> dict[str, Any] | None:
    """One text {de: …, en: …} (each a text or {one: …, other: …}), checked."""
    if not isinstance(forms, LineDict):
        error(at, where, "must be a mapping {de: …, en: …}")
        return None
    entry: dict[str, Any] = {}
    for lang in LANGS:
        value = forms.get(lang)
        if isinstance(value, LineDict):
            missing = [f for f in PLURAL_FORMS if not isinstance(value.get(f), str)]
            if missing:
                error(forms.line_of(lang), f"{where}.{lang}",
                      f"plural forms need {' and '.join(PLURAL_FORMS)} (missing: "
                      f"{', '.join(missing)})")
                continue
            entry[lang] = {f: value[f] for f in PLURAL_FORMS}
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(
                value).strip():
            entry[lang] = str(value)
        else:
            error(forms.line_of(lang) if lang in forms else at, f"{where}.{lang}",
                  "is missing" if value is None else "must be a text")
    found = [_forms(entry[lang]) for lang in LANGS if lang in entry]
    names = [set().union(*(placeholders(text) for text in texts)) for texts in found]
    if len(names) == 2 and names[0] != names[1]:
        error(at, where, f"the languages use different placeholders "
                         f"({', '.join(sorted(names[0] ^ names[1]))})")
    if where.startswith(("texts." + HTML_PREFIX, "texts.staff.")):
        for texts_of_lang in found:
            for text in texts_of_lang:
                problem = _html_problem(text)
                if problem:
                    error(at, where, problem)
    return entry


def _forms(value: Any) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def _html_problem(text: str) -> str | None:
    """Telegram rejects a message whose tags do not nest; only <b> and <i> are used."""
    stack: list[str] = []
    for match in _HTML_TAG.finditer(text):
        closing, name = match.group(1) == "/", match.group(2)
        if name not in _HTML_TAGS:
            return f"<{name}> is not allowed (only <b> and <i>)"
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return f"</{name}> closes no open <{name}>"
    if "<" in _HTML_TAG.sub("", text) or stack:
        return "a '<' that is no <b>/<i> tag, or a tag left open"
    return None


def _region_list(lang: str, forms: dict[str, dict[str, Any]],
                 district_names: dict[str, list[str]],
                 land_names: dict[str, dict[str, str]]) -> str:
    def pick(key: str) -> str:
        value = forms.get(key, {}).get(lang, "")
        return value if isinstance(value, str) else ""

    word_and = pick("and")

    def joined(items: list[str]) -> str:
        if len(items) < 2:
            return "".join(items)
        return f"{', '.join(items[:-1])} {word_and} {items[-1]}"

    groups = []
    for land, names in district_names.items():
        land_name = land_names.get(land, {}).get(lang, land)
        groups.append(pick("land").format(districts=joined(names), land=land_name))
    return pick("join").join(groups)


def _read_small_talk(section: Any, error) -> list[tuple[str, tuple[str, ...], dict[str, str]]]:
    if section is None:
        return []
    if not isinstance(section, LineDict):
        error(1, "small_talk", "must be a mapping of kinds")
        return []
    out = []
    for kind, item in section.items():
        where, at = f"small_talk.{kind}", section.line_of(kind)
        if not isinstance(item, LineDict) or not isinstance(item.get("words"), list):
            error(at, where, "needs words: [...] and reply: {de: …, en: …}")
            continue
        reply = _read_forms(item.get("reply"), f"{where}.reply",
                            item.line_of("reply") if "reply" in item else at, error) or {}
        words = tuple(fold(str(w)) for w in item["words"] if str(w).strip())
        for w in item["words"]:
            if isinstance(w, bool):
                error(at, f"{where}.words", "YAML reads a word as true/false: put it in quotes")
        out.append((str(kind), words, reply))
    return out


def _check_required(texts: Texts, error, line: int, roles: tuple[str, ...]) -> None:
    keys = [*REQUIRED, *(f"role.{r}.{what}" for r in roles for what in ROLE_TEXTS),
            *(f"command.{c}" for c in (*COMMANDS, *STAFF_COMMANDS)),
            *(f"staff.status.{s}" for s in STATUSES), *(f"staff.stat.{s}" for s in STATS),
            *(f"staff.cause.{c}" for c in CAUSES)]
    for key in keys:
        if key not in texts.entries:
            error(line, f"texts.{key}", "is missing")
