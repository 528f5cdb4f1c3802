"""`weserbot bench`: what a user waits for, and how it grows with the knowledge base.

Engine: latency per question (median, p99) and questions per second over the evaluation set, on the
bundled knowledge base and on generated bases 10× and 100× its size (bot/kbgen.py). Start-up: time
to load and index each base and the resident memory after load, each size measured in a fresh
process (`python -m bot.bench --worker …` prints JSON). End to end: messages per second and p99
from a user's message to the bot's reply through the real Application and a fake Bot API server on
loopback. A benchmark reports; it does not fail: exit 0 unless the run itself broke.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"
FULL_SIZES = (1, 10, 100)
QUICK_SIZES = (1, 10)
FULL_REPEAT = 5
QUICK_REPEAT = 2
E2E_USERS = 50
E2E_MESSAGES = 1000
E2E_IDLE_MESSAGES = 100
"""Messages one user sends alone before the load: the reply time of an idle bot."""
E2E_IDLE_PAUSE = 0.05
"""Seconds that user waits between a reply and the next message (people do not send 30 a second,
and Telegram's rate limit would otherwise be what is measured)."""
E2E_REPLY_TIMEOUT = 30.0
"""Seconds a user waits for a reply before the message counts as lost."""
WORKER_TIMEOUT = 600
ONE_OFF_QUESTION = "Wo melde ich mein Auto in Hameln an?"
ONE_OFF_BASELINE = "import yaml, rapidfuzz"
"""A one-off `weserbot ask` is compared with starting Python and importing what any answer needs."""
FULL_ONE_OFF_RUNS = 7
QUICK_ONE_OFF_RUNS = 3
CONSOLE_SCRIPT = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
"""What the `weserbot` console script runs (it may not be on PATH where the bench runs)."""
LONG_MESSAGE_WORDS = 12
"""A message of this many words or more is long: real sentences, where typo look-ups add up."""

TARGETS = (
    # (what, size, field, limit, unit)
    ("engine p99", 1, "p99_ms", 5.0, "ms"),
    ("engine p99", 100, "p99_ms", 20.0, "ms"),
    ("engine p99 on long messages", 100, "long_p99_ms", 10.0, "ms"),
    ("start-up", 1, "load_s", 1.0, "s"),
    ("memory", 100, "rss_mb", 150.0, "MB"),
)


# -- measuring in a fresh process -------------------------------------------------------------------
def _status_mb(field: str) -> float | None:
    """VmRSS / VmHWM of this process in MB (Linux), else None."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    rss = _status_mb("VmRSS")
    if rss is not None:
        return rss
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu_of(pid: int) -> float | None:
    """CPU seconds (user + system) another process has used so far (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def load_questions(path: Path) -> list[str]:
    """The "q" field of every line of a JSON-lines file (# lines are comments, as in eval sets)."""
    questions = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("q"), str):
                    raise ValueError(f"{path}:{number}: no \"q\" text")
                questions.append(item["q"])
    if not questions:
        raise ValueError(f"{path}: no questions")
    return questions


def _clear_caches(engine: Any) -> None:
    """Forget the fuzzy look-ups, so every pass costs what new questions cost."""
    understander = engine.understander
    for index in (understander.topics, understander.places):
        lookup = getattr(getattr(index, "vocabulary", None), "lookup", None)
        if hasattr(lookup, "cache_clear"):
            lookup.cache_clear()


def _signature(answer: Any) -> list[Any]:
    data = answer.to_json()
    return [data.get("reason"), data.get("topic"), data.get("district")]


def worker(knowledge: Path, questions: list[str], repeat: int) -> dict[str, Any]:
    """Load, index and question one knowledge base in this (fresh) process; plain numbers out."""
    started = time.perf_counter()
    rss_start = _rss_mb()
    from bot.engine import Engine
    from bot.knowledge import load_knowledge

    imported = time.perf_counter()
    kb = load_knowledge(knowledge)
    loaded = time.perf_counter()
    engine = Engine(kb)
    indexed = time.perf_counter()
    rss = _rss_mb()

    # First pass: answers (to compare sizes) and the cost of a cold process.
    first: list[float] = []
    answers = []
    for q in questions:
        t = time.perf_counter_ns()
        answer = engine.ask(q)
        first.append((time.perf_counter_ns() - t) / 1e6)
        answers.append(_signature(answer))
    latencies: list[float] = []
    long: list[float] = []
    warm: list[float] = []
    busy = 0.0
    for _ in range(repeat):
        _clear_caches(engine)
        pass_start = time.perf_counter()
        for q in questions:
            t = time.perf_counter_ns()
            engine.ask(q)
            latencies.append((time.perf_counter_ns() - t) / 1e6)
            if len(q.split()) >= LONG_MESSAGE_WORDS:
                long.append(latencies[-1])
        busy += time.perf_counter() - pass_start
    for q in questions:  # caches full: the same questions again
        t = time.perf_counter_ns()
        engine.ask(q)
        warm.append((time.perf_counter_ns() - t) / 1e6)
    places = engine.understander.places
    return {
        "knowledge": str(knowledge),
        "topics": len(kb.topics),
        "phrases": len(engine.understander.topics.phrases),
        "municipalities": len(kb.municipalities),
        "districts": len(kb.districts),
        "place_names": len(places.names),
        "postcodes": len(places.postcodes),
        "import_s": round(imported - started, 4),
        "load_s": round(indexed - imported, 4),
        "read_s": round(loaded - imported, 4),
        "index_s": round(indexed - loaded, 4),
        "rss_start_mb": round(rss_start, 1),
        "rss_mb": round(rss, 1),
        "peak_mb": round(_status_mb("VmHWM") or rss, 1),
        "questions": len(questions),
        "repeat": repeat,
        "median_ms": round(percentile(latencies, 50), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "max_ms": round(max(latencies), 3),
        "q_per_s": round(len(latencies) / busy, 1) if busy else None,
        "long_questions": len(long) // max(repeat, 1),
        "long_p99_ms": round(percentile(long, 99), 3) if long else None,
        "first_pass_p99_ms": round(percentile(first, 99), 3),
        "warm_median_ms": round(percentile(warm, 50), 3),
        "warm_p99_ms": round(percentile(warm, 99), 3),
        "answers": answers,
    }


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


PROFILE_ENV = "WESERBOT_BENCH_PROFILE"
"""When set to a folder, every worker process runs under cProfile and writes <worker>.prof there."""


def _python(name: str) -> list[str]:
    """The command line that starts a worker: `python -m bot.bench`, under cProfile if asked."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        return [sys.executable, "-m", "bot.bench"]
    return [sys.executable, "-m", "cProfile", "-o", str(Path(folder) / f"{name}.prof"), "-m",
            "bot.bench"]


def _run_python(args: list[str], name: str) -> dict[str, Any]:
    """`python -m bot.bench ARGS` in a fresh interpreter; its last output line is JSON."""
    cmd = [*_python(name), *args]
    run = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=WORKER_TIMEOUT)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def run_worker(knowledge: Path, questions_file: Path, repeat: int, name: str = "1x"
               ) -> dict[str, Any]:
    """One size in a fresh interpreter, so its memory is its own."""
    return _run_python(["--worker", "engine", "--knowledge", str(knowledge),
                        "--questions", str(questions_file), "--repeat", str(repeat)],
                       f"engine-{name}")


def run_engine(source: Path | None, sizes: tuple[int, ...], questions_file: Path, repeat: int,
               workdir: Path, log: Any) -> list[dict[str, Any]]:
    """Generate each size (1 = the source itself) and measure it in its own process."""
    from bot.kbgen import generate
    from bot.knowledge import BUNDLED

    source = Path(source or BUNDLED)
    questions = load_questions(questions_file)
    rows: list[dict[str, Any]] = []
    for size in sizes:
        generated = None
        if size == 1:
            knowledge = source
        else:
            knowledge = workdir / f"knowledge-{size}x"
            log(f"bench: generating a knowledge base {size}× the size …")
            t = time.perf_counter()
            generate(source, size, knowledge, reserved=questions)
            generated = round(time.perf_counter() - t, 2)
        log(f"bench: measuring {size}× in a fresh process …")
        row = {"size": size, "generate_s": generated} | run_worker(knowledge, questions_file,
                                                                    repeat, f"{size}x")
        rows.append(row)
    base = rows[0]["answers"] if rows and rows[0]["size"] == 1 else None
    for row in rows:
        answers = row.pop("answers")
        if base is not None:
            same = sum(a == b for a, b in zip(answers, base, strict=True))
            row["same_answers"] = round(same / len(base), 4)
    return rows


# -- one-off ask ------------------------------------------------------------------------------------
def _wall_time(cmd: list[str], cwd: str) -> float:
    """Seconds one run of `cmd` takes."""
    started = time.perf_counter()
    done = subprocess.run(cmd, env=_env(), cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=WORKER_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def run_one_off(source: Path | None, runs: int) -> dict[str, Any]:
    """`weserbot ask QUESTION` as a fresh process, against the bare import of its libraries: run
    in turn (a drifting machine speed moves both), after an unmeasured pair that warms the disk
    and the engine cache as any earlier command would have. From an empty folder, as a user runs
    it: `python -c` would otherwise import a source tree in the current folder instead of the
    installed package."""
    ask = [sys.executable, "-c", CONSOLE_SCRIPT, "ask", ONE_OFF_QUESTION]
    if source:
        ask += ["--knowledge", str(Path(source).resolve())]
    baseline = [sys.executable, "-c", ONE_OFF_BASELINE]
    asked, bare, ratios = [], [], []
    with tempfile.TemporaryDirectory(prefix="weserbot-one-off-") as cwd:
        for run in range(runs + 1):
            b, a = _wall_time(baseline, cwd), _wall_time(ask, cwd)
            if run:
                bare.append(b)
                asked.append(a)
                ratios.append(a / b)
    return {"question": ONE_OFF_QUESTION, "runs": runs, "ask_s": round(percentile(asked, 50), 3),
            "baseline": ONE_OFF_BASELINE, "baseline_s": round(percentile(bare, 50), 3),
            "ratio": round(percentile(ratios, 50), 2)}


def format_one_off(one_off: dict[str, Any]) -> str:
    return (f"one-off ask: {one_off['ask_s']:.2f} s = {one_off['ratio']:.1f}× "
            f"{one_off['baseline']} ({one_off['baseline_s']:.3f} s); "
            f"median of {one_off['runs']} paired runs, engine cache warm")


# -- end to end -------------------------------------------------------------------------------------
FAKE_BOT_API = "bot.fake_bot_api"


class E2EUnavailable(Exception):
    """The Telegram application or the fake Bot API is not there (the e2e part is skipped)."""


def _load_fake_bot_api() -> Any:
    """The fake Bot API server (bot/fake_bot_api.py, part of the package), or E2EUnavailable."""
    import importlib

    try:
        fake = importlib.import_module(FAKE_BOT_API)
    except ImportError as exc:
        raise E2EUnavailable(f"no fake Bot API server ({FAKE_BOT_API}: {exc})") from exc
    for name in ("FakeBotApi", "TOKEN"):
        if not hasattr(fake, name):
            raise E2EUnavailable(f"{FAKE_BOT_API} has no {name}")
    return fake


def _load_app() -> tuple[Any, Any]:
    """(handlers.app, RetryingRateLimiter), or E2EUnavailable."""
    import importlib

    try:
        app_module = importlib.import_module("handlers.app")
        limiter = importlib.import_module("handlers.safety").RetryingRateLimiter
    except (ImportError, AttributeError) as exc:
        raise E2EUnavailable(f"the Telegram application cannot be imported ({exc})") from exc
    for name in ("build_application", "running", "fast_event_loop"):
        if not hasattr(app_module, name):
            raise E2EUnavailable(f"handlers/app.py has no {name}()")
    return app_module, limiter


async def _serve_bot(knowledge: Path | None, base_url: str, token: str, workdir: Path,
                     rate_limit: bool, database: str | None = None) -> dict[str, Any]:
    """The bot process: the real Application polling `base_url` until standard input closes."""
    import asyncio

    from bot.config import Config, HurdlesConfig, TelegramConfig
    from bot.engine import Engine

    app_module, limiter_class = _load_app()
    engine = Engine.load(knowledge)
    config = Config(
        knowledge_dir=knowledge,
        telegram=TelegramConfig(token=token, base_url=base_url, base_file_url=base_url,
                                persistence_file=workdir / "state.pickle", flood_limit=0),
        hurdles=HurdlesConfig(path=workdir / "hurdles.sqlite", secret="bench-secret"),
        database_url=database,
    )
    # Telegram itself allows a bot about 30 messages per second overall; the fake server does
    # not, so by default that limit is off and the bot's own capacity is measured.
    limiter = limiter_class() if rate_limit else limiter_class(overall_max_rate=0)
    app = app_module.build_application(config, engine, rate_limiter=limiter)
    started = time.process_time()
    async with app_module.running(app, config):
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        cpu = time.process_time() - started
    return {"bot_rss_mb": round(_rss_mb(), 1), "bot_cpu_s": round(cpu, 3)}


def bot_worker(knowledge: Path | None, base_url: str, token: str, rate_limit: bool,
               database: str | None = None) -> dict[str, Any]:
    """The bot with its stores in a temporary SQLite file, or (`database`: a PostgreSQL server)
    in a schema of its own on that server, dropped afterwards."""
    import asyncio
    import logging

    from bot.database import parse_url, scratch_schema

    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="weserbot-e2e-") as tmp, contextlib.ExitStack() as on:
        if database and parse_url(database).dsn:
            database = on.enter_context(scratch_schema(database))
        _load_app()[0].fast_event_loop()  # as `weserbot run` does
        return asyncio.run(_serve_bot(knowledge, base_url, token, Path(tmp), rate_limit,
                                      database))


async def _e2e(knowledge: Path | None, questions: list[str], users: int, messages: int,
               rate_limit: bool, database: str | None = None) -> dict[str, Any]:
    """The users and the fake Bot API here; the bot in a process of its own (as in production,
    where Telegram's servers are elsewhere); both talk HTTP on loopback."""
    import asyncio

    fake = _load_fake_bot_api()
    _load_app()  # fail early, with a reason, when the application is not there
    per_user = [messages // users + (1 if u < messages % users else 0) for u in range(users)]
    first = [sum(per_user[:u]) for u in range(users)]
    async with fake.FakeBotApi() as api:
        cmd = ["--worker", "bot", "--base-url", api.base_url, "--token", fake.TOKEN]
        if knowledge:
            cmd += ["--knowledge", str(knowledge)]
        if rate_limit:
            cmd.append("--rate-limit")
        if database:
            cmd += ["--database", database]
        bot = await asyncio.create_subprocess_exec(
            *_python("bot"), *cmd, env=_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert bot.stdout is not None and bot.stdin is not None
            ready = await asyncio.wait_for(bot.stdout.readline(), WORKER_TIMEOUT)
            if ready.strip() != b"ready":
                err = (await bot.stderr.read()).decode() if bot.stderr else ""
                last = [line for line in err.splitlines() if line.strip()][-1:] or ["no output"]
                raise E2EUnavailable(f"the bot did not start ({last[0].strip()})")
            await api.wait_for_call("getUpdates", 1, timeout=60)

            async def converse(uid: int, texts: list[str], latencies: list[float],
                               pause: float = 0.0) -> int:
                """One user: each message after the reply to the previous; returns lost ones."""
                person = api.user(uid, f"User{uid}", "de" if uid % 3 else "en")
                lost = 0
                for text in texts:
                    await asyncio.sleep(pause)
                    before = len(api.sent_to(uid))
                    mark = len(api.calls)
                    sent_at = time.monotonic()
                    api.send_text(person, text)
                    try:
                        await api.wait_for_messages(uid, before + 1, timeout=E2E_REPLY_TIMEOUT)
                    except AssertionError:
                        lost += 1
                        continue
                    at = next(c.at for c in api.calls[mark:] if c.method == "sendMessage"
                              and c.fault is None and str(c.params.get("chat_id")) == str(uid))
                    latencies.append((at - sent_at) * 1000)
                return lost

            # One user alone first (also warms up): what a user waits for when the bot is idle.
            idle: list[float] = []
            idle_lost = await converse(99_999, questions[:E2E_IDLE_MESSAGES], idle, E2E_IDLE_PAUSE)
            latencies: list[float] = []
            started, cpu, bot_cpu = time.monotonic(), time.process_time(), _cpu_of(bot.pid)
            lost = sum(await asyncio.gather(*(
                converse(100_000 + u, [questions[(first[u] + k) % len(questions)]
                                       for k in range(per_user[u])], latencies)
                for u in range(users))))
            elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
            load_cpu = _cpu_of(bot.pid)
            bot.stdin.close()
            out, err = await asyncio.wait_for(bot.communicate(), 60)
        finally:
            if bot.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    bot.kill()
                await bot.wait()
        if bot.returncode != 0:
            raise RuntimeError(f"the bot process failed ({bot.returncode}):\n"
                               f"{err.decode()[-2000:]}")
        stats = json.loads(out.decode().strip().splitlines()[-1])
        if bot_cpu is not None and load_cpu is not None:
            # The bot's CPU while the users send: what a message costs once the bot is warm.
            stats["bot_cpu_ms_per_msg"] = round((load_cpu - bot_cpu) * 1000 / messages, 3)
        replies = sum(len(api.sent_to(100_000 + u)) for u in range(users))
        calls: dict[str, int] = {}
        for call in api.calls:
            calls[call.method] = calls.get(call.method, 0) + 1
    return {
        "users": users,
        "messages": messages,
        "replies": replies,
        "lost": lost,
        "seconds": round(elapsed, 3),
        "msg_per_s": round(messages / elapsed, 1),
        "median_ms": round(percentile(latencies, 50), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "idle_median_ms": round(percentile(idle, 50), 2) if idle else None,
        "idle_p99_ms": round(percentile(idle, 99), 2) if idle else None,
        "idle_lost": idle_lost,
        "rate_limit": rate_limit,
        "database": "PostgreSQL" if database and database.startswith("postgres") else "SQLite",
        "api_calls": calls,
        "harness_cpu_s": round(cpu, 3),
        **stats,
    }


def e2e_worker(knowledge: Path | None, questions: list[str], users: int, messages: int,
               rate_limit: bool, database: str | None = None) -> dict[str, Any]:
    """The end-to-end run; {"skipped": reason} when the application or the fake is missing."""
    import asyncio

    try:
        return asyncio.run(_e2e(knowledge, questions, users, messages, rate_limit, database))
    except E2EUnavailable as exc:
        return {"skipped": str(exc)}


def run_e2e(source: Path | None, questions_file: Path, users: int, messages: int,
            rate_limit: bool = False, database: str | None = None) -> dict[str, Any]:
    """Messages per second and reply time through the real Application and a fake Bot API,
    in a fresh process."""
    if users < 1 or messages < users:
        raise ValueError("end to end needs at least one user and one message per user")
    cmd = ["--worker", "e2e", "--questions", str(questions_file), "--users", str(users),
           "--messages", str(messages)]
    if source:
        cmd += ["--knowledge", str(source)]
    if rate_limit:
        cmd.append("--rate-limit")
    if database:
        cmd += ["--database", database]
    return _run_python(cmd, "e2e")


# -- output -----------------------------------------------------------------------------------------
COLUMNS = (
    # header, field, format
    ("size", "size", "{}x"),
    ("topics", "topics", "{}"),
    ("phrases", "phrases", "{}"),
    ("places", "municipalities", "{}"),
    ("names", "place_names", "{}"),
    ("load_s", "load_s", "{:.2f}"),
    ("rss_mb", "rss_mb", "{:.0f}"),
    ("median_ms", "median_ms", "{:.2f}"),
    ("p99_ms", "p99_ms", "{:.2f}"),
    ("q_per_s", "q_per_s", "{:.0f}"),
    ("same", "same_answers", "{:.0%}"),
)


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = [[h for h, _, _ in COLUMNS]]
    for row in rows:
        cells.append([fmt.format(row[key]) if row.get(key) is not None else "-"
                      for _, key, fmt in COLUMNS])
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in cells)


def format_e2e(e2e: dict[str, Any]) -> str:
    if "skipped" in e2e:
        return f"e2e: skipped: {e2e['skipped']}"
    limit = "Telegram's 30/s rate limit on" if e2e.get("rate_limit") else "overall rate limit off"
    return (f"e2e: {e2e['users']} users, {e2e['messages']} messages: {e2e['msg_per_s']:.0f} msg/s, "
            f"median {_ms(e2e['median_ms'])} ms, p99 {_ms(e2e['p99_ms'])} ms, "
            f"lost {e2e['lost']} ({limit}; {e2e.get('database', 'SQLite')})\n"
            f"e2e: one user alone: median {_ms(e2e.get('idle_median_ms'))} ms, "
            f"p99 {_ms(e2e.get('idle_p99_ms'))} ms; bot process {_ms(e2e.get('bot_rss_mb'))} MB, "
            f"{_cpu_ms(e2e.get('bot_cpu_ms_per_msg'))} ms CPU per message under load")


def format_long(rows: list[dict[str, Any]]) -> str:
    """p99 of the long messages (LONG_MESSAGE_WORDS words or more) per size."""
    sizes = [f"{row['long_p99_ms']:.2f} ms at {row['size']}x" for row in rows
             if row.get("long_p99_ms") is not None]
    count = rows[0].get("long_questions", 0) if rows else 0
    return (f"long messages ({LONG_MESSAGE_WORDS}+ words, {count} of them): p99 "
            + (", ".join(sizes) or "-"))


def _cpu_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def check_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_size = {row["size"]: row for row in rows}
    out = []
    for what, size, key, limit, unit in TARGETS:
        row = by_size.get(size)
        if row is None or row.get(key) is None:
            continue
        out.append({"target": f"{what} at {size}x <= {limit:g} {unit}", "value": row[key],
                    "met": row[key] <= limit})
    return out


def format_targets(targets: list[dict[str, Any]]) -> str:
    return "\n".join(f"target: {t['target']}: {'met' if t['met'] else 'NOT met'} ({t['value']:g})"
                     for t in targets)


# -- the command ------------------------------------------------------------------------------------
def setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help=f"CI mode: sizes {', '.join(f'{s}x' for s in QUICK_SIZES)}, "
                        f"{QUICK_REPEAT} passes")
    p.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    part = p.add_mutually_exclusive_group()
    part.add_argument("--e2e", action="store_true", help="only the end-to-end part")
    part.add_argument("--no-e2e", action="store_true", help="leave out the end-to-end part")
    p.add_argument("--sizes", help="comma-separated size factors (default 1,10,100; quick 1,10)")
    p.add_argument("--repeat", type=int, help="passes over the questions per size "
                   f"(default {FULL_REPEAT}; quick {QUICK_REPEAT})")
    p.add_argument("--questions", default=str(QUESTIONS),
                   help="JSON lines with a \"q\" field (default: eval/questions.jsonl)")
    p.add_argument("--users", type=int, help=f"end-to-end users (default {E2E_USERS})")
    p.add_argument("--messages", type=int, help=f"end-to-end messages (default {E2E_MESSAGES})")
    p.add_argument("--rate-limit", action="store_true", help="end to end with the production "
                   "rate limiter (Telegram's ~30 messages per second overall)")
    p.add_argument("--keep", metavar="DIR", help="write the generated bases here and keep them")
    p.add_argument("--profile", metavar="DIR", help="run every measured process under cProfile "
                   "and write its profile to DIR (engine-1x.prof, bot.prof …); slows the run")


def run_bench(args: argparse.Namespace) -> int:
    from bot.cli import _knowledge_dir, effective_config
    from bot.knowledge import KnowledgeError

    source = _knowledge_dir(args)
    questions_file = Path(args.questions)
    try:
        sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else (
            QUICK_SIZES if args.quick else FULL_SIZES)
        if not sizes or min(sizes) < 1:
            raise ValueError
    except ValueError:
        print("weserbot bench: --sizes must be factors like 1,10,100", file=sys.stderr)
        return 2
    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    users = args.users or E2E_USERS
    messages = args.messages or E2E_MESSAGES

    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        os.environ[PROFILE_ENV] = str(Path(args.profile).resolve())

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    result: dict[str, Any] = {"mode": "quick" if args.quick else "full", "cpus": os.cpu_count(),
                              "python": sys.version.split()[0]}
    try:
        if not args.e2e:
            with tempfile.TemporaryDirectory(prefix="weserbot-bench-") as tmp:
                workdir = Path(args.keep) if args.keep else Path(tmp)
                workdir.mkdir(parents=True, exist_ok=True)
                result["engine"] = run_engine(source, sizes, questions_file, repeat, workdir, log)
            result["targets"] = check_targets(result["engine"])
            log("bench: one-off `weserbot ask` in a fresh process …")
            result["one_off"] = run_one_off(source, QUICK_ONE_OFF_RUNS if args.quick
                                            else FULL_ONE_OFF_RUNS)
        if not args.no_e2e:
            log(f"bench: end to end, {users} users, {messages} messages …")
            result["e2e"] = run_e2e(source, questions_file, users, messages, args.rate_limit,
                                    effective_config(args).database_url if args.db else None)
    except (OSError, ValueError, RuntimeError, subprocess.TimeoutExpired, KnowledgeError) as exc:
        print(f"weserbot bench: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    if "engine" in result:
        print(format_table(result["engine"]))
        print(f"({repeat} passes of {result['engine'][0]['questions']} questions per size, "
              "fuzzy caches cleared before each pass; load_s = read + index; rss after load, "
              "fresh process per size; same = answers equal to 1x)")
        print(format_long(result["engine"]))
    if "one_off" in result:
        print(format_one_off(result["one_off"]))
    if "e2e" in result:
        print(format_e2e(result["e2e"]))
    if result.get("targets"):
        print(format_targets(result["targets"]))
    return 0


def _worker_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.bench --worker")
    p.add_argument("--worker", choices=("engine", "e2e", "bot"), required=True)
    p.add_argument("--base-url")
    p.add_argument("--token")
    p.add_argument("--knowledge")
    p.add_argument("--questions", default=str(QUESTIONS))
    p.add_argument("--repeat", type=int, default=FULL_REPEAT)
    p.add_argument("--users", type=int, default=E2E_USERS)
    p.add_argument("--messages", type=int, default=E2E_MESSAGES)
    p.add_argument("--rate-limit", action="store_true")
    p.add_argument("--database")
    args = p.parse_args(argv)
    knowledge = Path(args.knowledge) if args.knowledge else None
    if args.worker == "bot":
        print(json.dumps(bot_worker(knowledge, args.base_url, args.token, args.rate_limit,
                                    args.database)))
        return 0
    questions = load_questions(Path(args.questions))
    if args.worker == "engine":
        from bot.knowledge import BUNDLED

        result = worker(knowledge or BUNDLED, questions, args.repeat)
    else:
        result = e2e_worker(knowledge, questions, args.users, args.messages, args.rate_limit,
                            args.database)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    if "--worker" in sys.argv[1:]:
        sys.exit(_worker_main(sys.argv[1:]))
    from bot.cli import main

    sys.exit(main(["bench", *sys.argv[1:]]))
