"""The `weserbot` command: a thin layer of subcommands over the engine and the stores."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Config
    from bot.engine import Engine

Setup = Callable[[argparse.ArgumentParser], None]
Command = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Subcommand:
    """A subcommand as the parser knows it. Its name and help are here; its arguments (`setup`) and
    its work (`run`) are functions of `module`, which is imported only when the subcommand runs:
    `weserbot ask` does not pay for python-telegram-bot and aiosqlite."""

    name: str
    help: str
    module: str
    setup: str
    run: str

    def function(self, which: str) -> Callable:
        return getattr(importlib.import_module(self.module), getattr(self, which))


SUBCOMMANDS = (
    Subcommand("check", "validate the knowledge base", "bot.cli", "setup_check", "run_check"),
    Subcommand("ask", "answer a question (or --batch FILE of questions)", "bot.cli", "setup_ask",
               "run_ask"),
    Subcommand("eval", "measure the engine on a labelled question set", "bot.cli", "setup_eval",
               "run_eval"),
    Subcommand("hurdles", "the hurdle log: list, show, set-status, export, teach, digest",
               "bot.hurdle_commands", "setup_hurdles", "run_hurdles"),
    Subcommand("report", "write the hurdle report as one HTML page", "bot.hurdle_commands",
               "setup_report", "run_report"),
    Subcommand("run", "run the Telegram bot (long polling, or webhook as configured)",
               "bot.run_command", "setup", "run_bot"),
    Subcommand("bench", "measure latency, start-up, memory and end-to-end throughput",
               "bot.bench", "setup", "run_bench"),
    Subcommand("settings", "print the named thresholds and limits (--markdown: as in README.md)",
               "bot.settings", "setup", "run"),
)
BY_NAME = {command.name: command for command in SUBCOMMANDS}

COMMON_OPTIONS = (
    ("--knowledge", "DIR", "knowledge base directory (default: the bundled one, or knowledge_dir "
                           "from --config)"),
    ("--config", "FILE", "configuration file (YAML)"),
    ("--db", "URL", "the database: sqlite:///PATH, postgresql://… or the path of an SQLite file "
                    "(default: database.url, else hurdles.path, from --config)"),
)
"""Options every subcommand takes, before or after its name."""
SQLITE = "sqlite:///"


class CliError(Exception):
    """A command line or configuration the command cannot work with; the message says why."""


def database_url(value: str) -> str:
    """--db as a URL: a URL as given, a plain path as sqlite:/// and the absolute path (a relative
    path means the current directory, as anywhere on a command line)."""
    if "://" in value:
        return value
    return SQLITE + str(Path(value).expanduser().resolve())


def effective_config(args: argparse.Namespace) -> Config:
    """The configuration a command works with: the --config file (or the defaults), then --db and
    --knowledge over it. CliError when the file cannot be used."""
    from bot.config import Config, ConfigError, load_config

    if getattr(args, "config", None):
        try:
            config = load_config(Path(args.config))
        except ConfigError as exc:
            raise CliError(str(exc)) from exc
    else:
        config = Config(database_url=os.environ.get("WESERBOT_DATABASE_URL") or None)
    if getattr(args, "db", None):
        config.database_url = database_url(args.db)
        from bot.database import parse_url

        try:
            path = parse_url(config.database_url).path
        except ValueError as exc:
            raise CliError(f"--db: {exc}") from exc
        if path is not None:
            config.hurdles.path = path  # the keys kept beside the log are found there too
    if getattr(args, "knowledge", None):
        config.knowledge_dir = Path(args.knowledge)
    return config


def _knowledge_dir(args: argparse.Namespace) -> Path | None:
    if getattr(args, "knowledge", None):
        return Path(args.knowledge)  # no need to read (and check) a config file
    if getattr(args, "config", None):
        return effective_config(args).knowledge_dir
    return None


def _fail(problems: list[str]) -> SystemExit:
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"weserbot: the knowledge base has {len(problems)} problem(s)", file=sys.stderr)
    return SystemExit(1)


def load_engine(args: argparse.Namespace, cached: bool = False) -> Engine:
    """Load the engine or end the command with the knowledge base's problems (exit 1). `cached`:
    from the compiled copy of an unchanged knowledge base (bot/engine_cache.py) when there is one."""
    from bot.knowledge import KnowledgeError

    try:
        folder = _knowledge_dir(args)
        if cached:
            from bot.engine_cache import load_engine_cached

            return load_engine_cached(folder)
        from bot.engine import Engine

        return Engine.load(folder)
    except CliError as exc:
        print(f"weserbot {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    except KnowledgeError as exc:
        raise _fail(exc.problems) from exc


# -- check ---------------------------------------------------------------------------------------
def setup_check(p: argparse.ArgumentParser) -> None:
    """No options of its own: it always reads the YAML files, never the compiled cache."""


def run_check(args: argparse.Namespace) -> int:
    from bot.knowledge import KnowledgeError, load_knowledge

    try:
        folder = _knowledge_dir(args)
    except CliError as exc:
        print(f"weserbot check: {exc}", file=sys.stderr)
        return 2
    try:
        kb = load_knowledge(folder)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) found")
        return 1
    offices = sum(len(k.offices) for k in kb.office_kinds.values())
    localities = sum(len(m.localities) for m in kb.municipalities.values())
    print(f"knowledge base OK: {kb.root}")
    print(f"  {len(kb.districts)} districts, {len(kb.municipalities)} municipalities, "
          f"{localities} localities, {len(kb.outside)} places outside")
    print(f"  {len(kb.topics)} topics, {len(kb.office_kinds)} office kinds, {offices} offices")
    return 0


# -- ask -----------------------------------------------------------------------------------------
def setup_ask(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", nargs="?", help="the question (omit with --batch)")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p.add_argument("--batch", metavar="FILE", help="one question per line; - reads standard input")


def _lines(source: str) -> Iterable[str]:
    if source == "-":
        yield from (line.rstrip("\n") for line in sys.stdin)
        return
    with open(source, encoding="utf-8", errors="replace") as stream:
        yield from (line.rstrip("\n") for line in stream)


def run_ask(args: argparse.Namespace) -> int:
    if args.question is None and not args.batch:
        print("weserbot ask: give a question or --batch FILE", file=sys.stderr)
        return 2
    engine = load_engine(args, cached=True)
    questions = _lines(args.batch) if args.batch else [args.question]
    try:
        for question in questions:
            answer = engine.ask(question)
            if args.json:
                print(json.dumps(answer.to_json(), ensure_ascii=False), flush=bool(args.batch))
            else:
                print(answer.text + ("\n" if args.batch else ""))
    except OSError as exc:
        print(f"weserbot ask: {exc}", file=sys.stderr)
        return 2
    return 0


# -- eval ----------------------------------------------------------------------------------------
def setup_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="labelled questions, JSON lines (see eval/README.md); each is reported apart")
    p.add_argument("--outside-towns", action="store_true",
                   help="also ask from every German town of 10,000+ outside the region")
    p.add_argument("--show-errors", action="store_true", help="list every wrong answer")


def run_eval(args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate, load_cases, outside_town_cases, print_report

    engine = load_engine(args, cached=True)
    sets = []
    try:
        sets = [(name, load_cases(Path(name))) for name in args.files]
    except (OSError, ValueError) as exc:
        print(f"weserbot eval: {exc}", file=sys.stderr)
        return 2
    if args.outside_towns:
        sets.append(("towns of 10,000+ outside the region", outside_town_cases(engine)))
    passed = True
    for name, cases in sets:
        if len(sets) > 1:
            print(f"\n== {name}")
        report = evaluate(engine, cases)
        print_report(report, show_errors=args.show_errors)
        passed = passed and report.passed
    if len(sets) > 1:
        print(f"\nall sets: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The whole command line. Every subcommand is listed with its help; the arguments are set up
    for `chosen` only (the one that runs), so no other subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog="weserbot", description="Which office is responsible for me? (Weser region)")
    for flag, metavar, help_text in COMMON_OPTIONS:
        parser.add_argument(flag, metavar=metavar, help=help_text)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in SUBCOMMANDS:
        child = sub.add_parser(command.name, help=command.help, description=command.help)
        if command.name == chosen:
            command.function("setup")(child)
            _take_common_options(child)
    return parser


def _take_common_options(parser: argparse.ArgumentParser) -> None:
    """`weserbot check --knowledge DIR`, `weserbot hurdles export --config c.yaml`: the common
    options after a (sub)subcommand too; SUPPRESS keeps a value given before it."""
    taken = {flag for action in parser._actions for flag in action.option_strings}
    for flag, metavar, help_text in COMMON_OPTIONS:
        if flag not in taken:
            parser.add_argument(flag, metavar=metavar, default=argparse.SUPPRESS, help=help_text)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _take_common_options(child)


def chosen_subcommand(argv: list[str]) -> str | None:
    """The subcommand named on the command line: the first word that is not a common option or
    its value (None for `weserbot --help` or no subcommand)."""
    scout = argparse.ArgumentParser(add_help=False)
    for flag, _, _ in COMMON_OPTIONS:
        scout.add_argument(flag)
    scout.add_argument("command", nargs="?")
    try:
        known, _ = scout.parse_known_args(argv)
    except SystemExit:  # e.g. --config without its value: the real parser says so
        return None
    return known.command if known.command in BY_NAME else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(chosen_subcommand(argv)).parse_args(argv)
    run = BY_NAME[args.command].function("run")
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`weserbot … | head`): not an error of ours, and nothing to print.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    # Run as `python -m bot.cli`, this file is module __main__; the subcommands look their
    # functions up in bot.cli, so that one module runs.
    from bot.cli import main as _main

    sys.exit(_main())
