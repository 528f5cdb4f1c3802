"""`weserbot hurdles list|show|set-status|export|teach|digest` and `weserbot report`: the log for
the staff."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import re
import shutil
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cli import CliError, effective_config
from bot.config import ConfigError
from bot.database import DatabaseURL
from bot.grouping import CAUSES
from bot.hurdles import STATUSES, Hurdle, HurdleStore, StoreUnavailable

CSV_FIELDS = ("id", "status", "cause", "topic", "reason", "count", "askers", "first_seen", "last_seen",
              "title", "note", "district_pairs", "lands", "examples", "answer", "taught")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Spreadsheets run cells starting with these as formulas; the questions come from the public."""


class UsageError(Exception):
    """A wrong argument; the message is for the person at the terminal."""


def _date(text: str) -> datetime:
    """A --since/--until value: YYYY-MM-DD (local midnight) or a full ISO date and time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2025-03-31") from exc
    return value if value.tzinfo else value.astimezone()


def _until(text: str) -> datetime:
    """--until DATE includes that whole day; a date with a time is taken as is."""
    value = _date(text)
    try:
        date.fromisoformat(text)
    except ValueError:
        return value
    return value + timedelta(days=1)


def _settings(args: argparse.Namespace) -> tuple[DatabaseURL, str, int | None]:
    """Where the log is, its secret and retention, from the effective configuration (--db wins
    over the config's database.url and hurdles.path). Without a config the retention is unknown,
    and nothing is purged (the bot's setting may be longer)."""
    if not getattr(args, "config", None) and not getattr(args, "db", None) and not (
            os.environ.get("WESERBOT_DATABASE_URL")):
        raise UsageError("which hurdle log? give --db FILE or --config FILE")
    try:
        cfg = effective_config(args)
        where = cfg.hurdles_db
    except (CliError, ConfigError) as exc:
        raise UsageError(str(exc)) from exc
    retention = cfg.hurdles.retention_days if getattr(args, "config", None) else None
    if where.path is not None and not where.path.is_file():
        raise UsageError(f"no hurdle log at {where.path} (the bot creates it when it logs the "
                         "first question)")
    return where, cfg.hurdles.secret, retention


def _with_store(args: argparse.Namespace,
                work: Callable[[HurdleStore], Awaitable[int]]) -> int:
    """Open the log, run `work`, close it; problems become a message and exit status 2."""
    async def main() -> int:
        where, secret, retention = _settings(args)
        store = await HurdleStore.open(where, secret, retention or 365,
                                       purge_on_open=retention is not None)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except (UsageError, CliError, StoreUnavailable, OSError) as exc:
        print(f"weserbot {args.command}: {exc}", file=sys.stderr)
        return 2


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {"status": args.status, "topic": args.topic, "district": args.district,
            "since": args.since, "until": args.until, "open_only": args.open,
            "cause": args.cause}


def _knowledge_dir(args: argparse.Namespace) -> Path:
    """--knowledge, else the config's knowledge_dir, else the bundled knowledge base."""
    from bot.knowledge import BUNDLED

    return effective_config(args).knowledge_dir or BUNDLED


def _staff_language(args: argparse.Namespace) -> str:
    if getattr(args, "lang", None):
        return args.lang
    return effective_config(args).staff_language


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "–"


# -- output ---------------------------------------------------------------------------------------
def table(hurdles: list[Hurdle], width: int | None = None) -> str:
    """A plain text table, one hurdle a line; on a terminal the question is cut to its width,
    piped into a file or grep it is kept whole."""
    if width is None and sys.stdout.isatty():
        width = shutil.get_terminal_size().columns
    lines = [f"{'ID':>5}  {'STATUS':<18} {'COUNT':>5} {'ASKERS':>6}  {'LAST SEEN':<10}  "
             f"{'TOPIC':<22} {'REASON':<17} QUESTION"]
    for h in hurdles:
        line = (f"{h.id:>5}  {h.status:<18} {h.count:>5} {h.askers:>6}  "
                f"{h.last_seen.astimezone():%Y-%m-%d}  {(h.topic or '–')[:22]:<22} "
                f"{h.reason[:17]:<17} ")
        title = " ".join(h.title.split())
        lines.append(line + (title[:max(width - len(line), 30)] if width else title))
    return "\n".join(lines)


def details(h: Hurdle) -> str:
    """Everything known about one hurdle, for `show`."""
    lines = [f"Hurdle {h.id}: {h.title}",
             f"  status:         {h.status}" + (f" (since {_local(h.status_changed)})"
                                                 if h.status_changed else ""),
             f"  note:           {h.note or '–'}",
             f"  cause:          {h.cause or '–'}",
             f"  topic / reason: {h.topic or '–'} / {h.reason}",
             f"  count:          {h.count} question(s) from {h.askers} asker(s)",
             f"  first seen:     {_local(h.first_seen)}",
             f"  last seen:      {_local(h.last_seen)}",
             f"  districts:      {', '.join(h.district_pairs) or '–'}",
             f"  Länder:         {', '.join(h.lands) or '–'}",
             f"  hand-offs:      {h.handed_off} asked for a person, {h.waiting} waiting",
             f"  answer:         {h.answer or '–'}"]
    lines.extend(f"  taught:         {t['topic']} on {t['at'][:10]} by {t['by']}" for t in h.taught)
    lines.append("  examples:")
    lines.extend(f"    - {e}" for e in h.examples)
    return "\n".join(lines)


_FORMULA_AFTER_SEPARATOR = re.compile(r"([;,\t|]\s*)(?=[=+\-@])")
"""A spreadsheet that splits the cell on ; (German) or , would run what follows as a formula."""


def _cell(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(hurdles: list[Hurdle]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for h in hurdles:
        data = h.to_json()
        data["district_pairs"] = "; ".join(h.district_pairs)
        data["lands"] = "; ".join(h.lands)
        data["examples"] = " | ".join(h.examples)
        data["taught"] = "; ".join(f"{t['topic']} ({t['at'][:10]}, {t['by']})" for t in h.taught)
        writer.writerow([_cell(data[f]) for f in CSV_FIELDS])
    return out.getvalue()


def to_json(hurdles: list[Hurdle]) -> str:
    return json.dumps([h.to_json() for h in hurdles], ensure_ascii=False, indent=2) + "\n"


def _write(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


# -- hurdles --------------------------------------------------------------------------------------
def setup_hurdles(p: argparse.ArgumentParser) -> None:
    # --db, --config and --knowledge are common options (bot/cli.py), before or after the action.
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--status", choices=STATUSES)
    filters.add_argument("--cause", choices=[str(c) for c in CAUSES])
    filters.add_argument("--open", action="store_true", help="only new and in_review")
    filters.add_argument("--topic", help="topic id, e.g. kfz-zulassung")
    filters.add_argument("--district", help="district id, e.g. lippe (counts only questions "
                         "naming a place there)")
    filters.add_argument("--since", type=_date, metavar="DATE", help="from this day (YYYY-MM-DD)")
    filters.add_argument("--until", type=_until, metavar="DATE", help="up to and including "
                         "this day")
    sub = p.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("list", parents=[filters], help="hurdles, most frequent first")
    ls.add_argument("--limit", type=int, default=20)
    show = sub.add_parser("show", help="all details of one hurdle")
    show.add_argument("id", type=int)
    st = sub.add_parser("set-status", help="record what was done about a hurdle")
    st.add_argument("id", type=int)
    st.add_argument("status", choices=STATUSES)
    st.add_argument("--note", help="a note for colleagues (kept if not given)")
    ex = sub.add_parser("export", parents=[filters], help="all matching hurdles as CSV/JSON")
    ex.add_argument("--format", choices=("csv", "json"), default="csv")
    ex.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    te = sub.add_parser("teach", help="add a hurdle's phrasings to a topic "
                        "(knowledge/taught.yaml), or draft a new topic (--topic new)")
    te.add_argument("id", type=int)
    te.add_argument("--topic", required=True, help="topic id, e.g. hundesteuer, or 'new'")
    te.add_argument("--by", default="", help="who teaches (stored as a pseudonym)")
    dg = sub.add_parser("digest", help="the weekly digest: new hurdles, causes, "
                        "cross-border pairs, hand-offs waiting")
    dg.add_argument("--days", type=int, default=7)
    dg.add_argument("--lang", choices=("de", "en"), help="default: staff.language, else de")


def run_hurdles(args: argparse.Namespace) -> int:
    async def work(store: HurdleStore) -> int:
        if args.action == "list":
            found = await store.hurdles(**_filters(args), limit=args.limit)
            print(table(found) if found else "no hurdles match")
        elif args.action == "show":
            hurdle = await store.hurdle(args.id)
            if hurdle is None:
                raise UsageError(f"no hurdle {args.id}")
            print(details(hurdle))
        elif args.action == "set-status":
            try:
                hurdle = await store.set_status(args.id, args.status, args.note)
            except KeyError:
                raise UsageError(f"no hurdle {args.id}") from None
            print(f"hurdle {hurdle.id}: {hurdle.status}" + (f" – {hurdle.note}"
                                                            if hurdle.note else ""))
        elif args.action == "teach":
            return await _teach(args, store)
        elif args.action == "digest":
            from bot.digest import plain, render_digest
            from bot.knowledge import load_knowledge

            texts = load_knowledge(_knowledge_dir(args)).texts
            data = await store.digest(days=args.days)
            print(plain(render_digest(data, texts, _staff_language(args))))
        else:
            found = await store.hurdles(**_filters(args), limit=None)
            _write(to_csv(found) if args.format == "csv" else to_json(found), args.out)
            if args.out:
                print(f"{len(found)} hurdle(s) written to {args.out}")
        return 0

    return _with_store(args, work)


async def _teach(args: argparse.Namespace, store: HurdleStore) -> int:
    """`hurdles teach N --topic T`: like /teach in Telegram; the base is checked before it stays
    changed. A running bot picks it up with /reload or SIGHUP."""
    import getpass

    from bot.knowledge import KnowledgeError, load_knowledge
    from bot.teach import NEW, draft, teach

    folder = _knowledge_dir(args)
    if await store.hurdle(args.id) is None:
        raise UsageError(f"no hurdle {args.id}")
    phrasings = await store.phrasings(args.id)
    by = store.asker_key(f"staff:{args.by or getpass.getuser()}")[:8]
    if args.topic == NEW:
        lesson = draft(folder, phrasings, args.id, by)
        await store.record_teach(args.id, lesson.topic, by)
        print(f"hurdle {args.id}: draft of a new topic written to {lesson.path} – complete it "
              "and move it to topics/")
        return 0
    try:
        kb = load_knowledge(folder)
        lesson = teach(folder, kb, args.topic, phrasings, args.id, by)
    except KeyError:
        raise UsageError(f"no topic '{args.topic}' in {folder}") from None
    except KnowledgeError as exc:
        raise UsageError(f"the knowledge base has problems already: {exc}") from None
    if not lesson.phrases:
        print(f"hurdle {args.id}: nothing new – {args.topic} knows these phrasings already")
        return 0
    try:
        load_knowledge(folder)
    except KnowledgeError as exc:
        lesson.undo()
        raise UsageError(f"not taught, nothing changed: {exc}") from None
    await store.record_teach(args.id, args.topic, by)
    print(f"hurdle {args.id}: taught to {args.topic}: "
          + ", ".join(f"{p} ({lang})" for lang, p in lesson.phrases)
          + f"\n{lesson.path} – a running bot picks it up with /reload or SIGHUP")
    return 0


# -- report ---------------------------------------------------------------------------------------
def setup_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="FILE", default="report.html", help="the HTML file to write")
    p.add_argument("--since", type=_date, metavar="DATE", help="from this day (YYYY-MM-DD)")
    p.add_argument("--until", type=_until, metavar="DATE", help="up to and including this day")
    p.add_argument("--top", type=int, default=20, help="how many open hurdles to list")
    p.add_argument("--lang", choices=("de", "en"), help="the page's language (default: "
                   "staff.language from --config, else de)")


def run_report(args: argparse.Namespace) -> int:
    from bot.knowledge import load_knowledge
    from bot.report import build_report

    async def work(store: HurdleStore) -> int:
        kb = load_knowledge(_knowledge_dir(args))
        page = await build_report(store, since=args.since, until=args.until, top=args.top,
                                  lang=_staff_language(args), kb=kb)
        Path(args.out).write_text(page, encoding="utf-8")
        print(f"report written to {args.out} – open it in a browser")
        return 0

    return _with_store(args, work)
