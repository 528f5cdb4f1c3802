"""A compiled copy of the loaded engine, for one-off commands (`weserbot ask`, `weserbot eval`).

Reading the YAML knowledge base, indexing it and loading wordfreq take about a second; a one-off
question should not wait for that each time. The engine as built from the YAML files is pickled
into the user's cache folder ($XDG_CACHE_HOME/weserbot, else ~/.cache/weserbot), together with
the wordfreq values the engine asks about (lexicon.FrequentWords), and used again while nothing
it was made from changed: the knowledge files, WeserBot's own code, wordfreq and Python (paths,
sizes and modification times). An unwritable folder or a damaged file only means a normal load.
`weserbot check` and the bot itself always read the YAML files.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bot import lexicon
from bot.engine import Engine
from bot.knowledge import BUNDLED

FORMAT = 1
"""Raise when what is stored changes shape: older files are then rebuilt."""
CACHE_ENV = "WESERBOT_CACHE"
"""Set to 0 to neither read nor write the cache."""
PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "weserbot"


def _files(folder: Path, suffix: str = "", deep: bool = True) -> list[str]:
    """The files in `folder` (and below it, `deep`) whose names end in `suffix`; os.walk, as it is
    several times faster than Path.rglob, and this runs before every cached answer."""
    found = []
    for top, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if deep and f != "__pycache__")
        found.extend(os.path.join(top, name) for name in sorted(names) if name.endswith(suffix))
    return found


def fingerprint(paths: Iterable[str], *extra: str) -> str:
    """What a cached file was made from: every path with its size and modification time."""
    digest = hashlib.sha256("\0".join((str(FORMAT), sys.version, *extra)).encode())
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _wordfreq_files() -> list[str]:
    """wordfreq's modules, found without importing it (that is what costs): a new version of its
    word lists comes with new modules (an installation writes every file anew)."""
    import importlib.util

    spec = importlib.util.find_spec("wordfreq")
    if spec is None or spec.origin is None:
        return []
    return _files(Path(spec.origin).parent, ".py", deep=False)


# -- pickling -----------------------------------------------------------------------------------------
def _with_caches(cls: type, state: dict[str, Any], caches: list[tuple[str, str, int | None]]
                 ) -> Any:
    """An object whose lru_cache'd bound methods were left out of the pickle, caches made anew."""
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    for attr, method, size in caches:
        setattr(obj, attr, functools.lru_cache(maxsize=size)(getattr(obj, method)))
    return obj


class _Pickler(pickle.Pickler):
    """Pickles what the plain pickler cannot or does slowly: an lru_cache around an object's own
    method (FuzzyVocabulary.lookup) is made anew on load, empty; a dataclass with slots (PlaceRef,
    OutsidePlace: tens of thousands) is rebuilt by calling the class, which is several times faster
    than the generic __setstate__."""

    _fields: dict[type, tuple[str, ...] | None] = {}

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if isinstance(obj, type):
            return NotImplemented
        if dataclasses.is_dataclass(cls) and (names := self._init_fields(cls)) is not None:
            return cls, tuple(getattr(obj, name) for name in names)
        state = getattr(obj, "__dict__", None)
        if type(state) is not dict:
            return NotImplemented
        caches = [(attr, value.__wrapped__.__name__, value.cache_info().maxsize)
                  for attr, value in state.items()
                  if isinstance(value, functools._lru_cache_wrapper)
                  and getattr(value.__wrapped__, "__self__", None) is obj]
        if not caches:
            return NotImplemented
        left_out = {attr for attr, _, _ in caches}
        return _with_caches, (cls, {k: v for k, v in state.items() if k not in left_out}, caches)

    @classmethod
    def _init_fields(cls, kind: type) -> tuple[str, ...] | None:
        """The fields when calling the class with them rebuilds the object exactly."""
        if kind not in cls._fields:
            fields = dataclasses.fields(kind)
            exact = ("__slots__" in kind.__dict__ and not hasattr(kind, "__post_init__")
                     and all(f.init for f in fields) and len(fields) == len(kind.__slots__))
            cls._fields[kind] = tuple(f.name for f in fields) if exact else None
        return cls._fields[kind]


def _read(path: Path, key: str) -> Any | None:
    """The object stored under `key`, or None (no file, another key, or a damaged file)."""
    try:
        with path.open("rb") as stream:
            if pickle.load(stream) != key:
                return None
            gc.disable()  # hundreds of thousands of new objects, none of them garbage
            try:
                return pickle.load(stream)
            finally:
                gc.enable()
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - any damage means: build it again
        return None


def _write(path: Path, key: str, value: Any) -> None:
    """Store atomically (a reader never sees half a file); a failure only means no cache."""
    import tempfile  # only here: a one-off command that reads the cache does not need it

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(key, stream, protocol=pickle.HIGHEST_PROTOCOL)
                _Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except Exception:  # noqa: BLE001 - read-only home, full disk, something not picklable
        pass


def _cached(path: Path, key: str, build: Callable[[], Any]) -> Any:
    value = _read(path, key)
    if value is None:
        value = build()
        _write(path, key, value)
    return value


def load_engine_cached(knowledge_dir: Path | str | None = None) -> Engine:
    """Engine.load(knowledge_dir), from the cache when nothing changed; raises KnowledgeError as
    Engine.load does (an invalid base is never cached)."""
    root = Path(knowledge_dir or BUNDLED).resolve()
    if os.environ.get(CACHE_ENV) == "0":
        return Engine.load(root)
    folder = cache_dir()
    code = _files(PACKAGE, ".py", deep=False)
    # One file per installation (and knowledge folder): a change replaces its file instead of
    # adding one, and two installations do not take turns overwriting each other's.
    words = _cached(folder / f"wordfreq-{_name(PACKAGE)}.pickle",
                    fingerprint([*code, *_wordfreq_files()]),
                    lambda: lexicon.FrequentWords.from_wordfreq(lexicon.FREQUENT_FLOOR))
    lexicon.use_frequent_words(words)
    return _cached(folder / f"engine-{_name(PACKAGE, root)}.pickle",
                   fingerprint([*code, *_files(root)]), lambda: Engine.load(root))


def _name(*paths: Path) -> str:
    return hashlib.sha256("\0".join(map(str, paths)).encode()).hexdigest()[:16]
