"""Read YAML so that every mapping remembers the line of each key: errors can then name file and line."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class LineDict(dict):
    """A mapping from YAML that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence from YAML that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


@functools.cache
def _loader() -> type:
    """The loader: (C)SafeLoader with line numbers on every mapping and list, duplicate keys
    refused and dates kept as text. Built on first use, so that a command that parses no YAML
    (a one-off `weserbot ask` from the engine cache) does not import PyYAML."""
    import yaml

    # libyaml's parser when present: the same data and marks, several times faster to load.
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                # PyYAML silently keeps the last one; in a hand-edited file that hides a mistake.
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is given twice", key_node.start_mark)
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_lines[str(key)] = key_node.start_mark.line + 1
        return result

    def sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
        result = LineList(loader.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result

    def string_timestamp(loader: Any, node: yaml.ScalarNode) -> str:
        # Dates stay strings ("2026-11-25"): the knowledge base shows them, it does not compute
        # with them.
        return loader.construct_scalar(node)

    loader = type("_Loader", (base,), {})
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    loader.add_constructor("tag:yaml.org,2002:timestamp", string_timestamp)
    return loader


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the knowledge base, printed as `file:line: field: what is wrong`."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class YamlError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load_yaml(path: Path, shown_as: str) -> Any:
    """Parse one file; a syntax error becomes a Problem that names file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(Problem(shown_as, 1, "file", f"cannot be read: {exc}")) from exc
    import yaml

    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 - derives from (C)SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        what = getattr(exc, "problem", None) or str(exc)
        if "given twice" not in what:
            what = f"syntax error: {what}"
        raise YamlError(Problem(shown_as, line, "yaml", what)) from exc
