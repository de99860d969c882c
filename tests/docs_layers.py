"""The package's imports, read from the source, and the layer table of ``docs/architecture.md``.

So the architecture page cannot drift from the code: :func:`layers` reads the page's table
(``| 5 | `bam/` | ... |``), :func:`imports` every import of every module (function-level ones
included: they run on executors too), as ``(importer, imported)`` pairs of module names, and
:func:`circles` the import circles among them.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

from docs_support import ROOT

PACKAGE = "sparkbam_py"
TESTING = -1  # the table's "—" row: anything may be imported by it, nothing imports it
ROW = re.compile(r"^\| (\d+|—) \| (.*?) \|")


def layers() -> Dict[str, int]:
    """``{"errors": 0, "bam": 5, "__init__": 10, "testing": -1, ...}`` from the page's table."""
    table = {}
    for line in (ROOT / "docs" / "architecture.md").read_text().splitlines():
        row = ROW.match(line)
        if row:
            number = TESTING if row.group(1) == "—" else int(row.group(1))
            for name in re.findall(r"`([\w./]+)`", row.group(2)):
                table[name.rstrip("/").removesuffix(".py")] = number
    return table


def modules() -> Dict[str, Path]:
    """Every module of the installed package by dotted name (``validators/`` is ``sparkbam_py.validators``)."""
    found = {}
    for base, dotted in ((ROOT / PACKAGE, [PACKAGE]), (ROOT / "validators", [PACKAGE, "validators"])):
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(dotted + parts)] = path
    return found


def imports() -> Iterator[Tuple[str, str]]:
    """``(importer, imported)`` for every import in the package: a module of ours, or the name as written."""
    known = modules()
    for name, path in known.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                # "from . import x" and "from pkg import submodule" import the submodule itself
                targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                           for alias in node.names]
            else:
                continue
            for target in targets:
                ours = target
                while ours and ours not in known:  # "sparkbam_py.bam.splits.SplitTask" -> the module
                    ours = ours.rpartition(".")[0]
                if ours != name:
                    yield name, ours or target


def unit(module: str) -> str:
    """The row of the layer table a module belongs to: its first package, or its root module."""
    parts = module.split(".")
    return "__init__" if len(parts) == 1 or parts[1] == "__main__" else parts[1]


def circles(edges: Set[Tuple[str, str]]) -> List[List[str]]:
    """The import circles between modules: strongly connected groups of more than one (Tarjan)."""
    graph: Dict[str, List[str]] = {}
    for source, target in edges:
        graph.setdefault(source, []).append(target)
        graph.setdefault(target, [])
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
