"""The `weserbot` command: a thin layer of subcommands over the engine and the stores."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from bot.engine import Engine
from bot.knowledge import KnowledgeError, load_knowledge

Setup = Callable[[argparse.ArgumentParser], None]
Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[str, Setup, Command]] = {}
PLUGINS = ("bot.hurdle_commands", "bot.run_command", "bot.bench")
"""Modules that add their own subcommands with `register` when imported (if present)."""


def register(name: str, help_text: str, setup: Setup, run: Command) -> None:
    """Add a subcommand: `setup` declares its arguments, `run` does the work and returns the exit code."""
    COMMANDS[name] = (help_text, setup, run)


def _knowledge_dir(args: argparse.Namespace) -> Path | None:
    if getattr(args, "knowledge", None):
        return Path(args.knowledge)
    if getattr(args, "config", None):
        from bot.config import load_config

        return load_config(Path(args.config)).knowledge_dir
    return None


def load_engine(args: argparse.Namespace) -> Engine:
    """Load the engine or end the command with the knowledge base's problems (exit 1)."""
    try:
        return Engine.load(_knowledge_dir(args))
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"weserbot: the knowledge base has {len(exc.problems)} problem(s)", file=sys.stderr)
        raise SystemExit(1) from exc


# -- check ---------------------------------------------------------------------------------------
def run_check(args: argparse.Namespace) -> int:
    try:
        kb = load_knowledge(_knowledge_dir(args))
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
def _setup_ask(p: argparse.ArgumentParser) -> None:
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
    engine = load_engine(args)
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
def _setup_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="labelled questions, JSON lines (see eval/README.md); each is reported apart")
    p.add_argument("--outside-towns", action="store_true",
                   help="also ask from every German town of 10,000+ outside the region")
    p.add_argument("--show-errors", action="store_true", help="list every wrong answer")


def run_eval(args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate, load_cases, outside_town_cases, print_report

    engine = load_engine(args)
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


register("check", "validate the knowledge base", lambda p: None, run_check)
register("ask", "answer a question (or --batch FILE of questions)", _setup_ask, run_ask)
register("eval", "measure the engine on a labelled question set", _setup_eval, run_eval)


COMMON_OPTIONS = (
    ("--knowledge", "DIR", "knowledge base directory (default: the bundled one, or knowledge_dir "
                           "from --config)"),
    ("--config", "FILE", "configuration file (YAML)"),
)
"""Options every subcommand takes, before or after its name."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="weserbot", description="Which office is responsible for me? (Weser region)")
    for flag, metavar, help_text in COMMON_OPTIONS:
        parser.add_argument(flag, metavar=metavar, help=help_text)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, setup, _) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        setup(command)
        _take_common_options(command)
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


def _load_plugins() -> None:
    """Subcommands that live with their feature register themselves on import."""
    import importlib

    for module in PLUGINS:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> int:
    _load_plugins()
    args = build_parser().parse_args(argv)
    _, _, run = COMMANDS[args.command]
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`weserbot … | head`): not an error of ours, and nothing to print.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    # Run as `python -m bot.cli`, this file is module __main__; plugins register with bot.cli.
    from bot.cli import main as _main

    sys.exit(_main())
