"""Data flows one way (message → understanding → responsibility → answer → renderers): no module of
`bot` or `handlers` imports, even inside a function, a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers")


def module_files() -> dict[str, Path]:
    """Dotted module name → file, for every module of the packages."""
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            files[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return files


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules a file imports anywhere in it (top level, functions, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module in modules:
                found.add(node.module)
            # `from bot import keys` imports the module bot.keys
            found |= {f"{node.module}.{a.name}" for a in node.names
                      if f"{node.module}.{a.name}" in modules}
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    # A module naming itself (`python -m bot.cli` runs as __main__ and imports bot.cli) is no cycle.
    return {name: imports_of(path, set(files)) - {name} for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for target in sorted(graph[node]):
            cycle = visit(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_the_graph_covers_every_module_and_sees_imports_inside_functions():
    graph = import_graph()
    assert {"bot.engine", "bot.knowledge", "handlers.app"} <= set(graph)
    assert "bot.understand" in graph["bot.engine"]
    assert "bot.render_text" in graph["bot.engine"]


def test_no_module_of_bot_or_handlers_imports_one_that_imports_it_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_a_cycle_is_found_when_there_is_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
