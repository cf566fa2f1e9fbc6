"""Which environment variables a source file reads, found in its syntax tree.

An AST walk, not a grep: `os.environ.get("X")`, `os.environ["X"]`, `os.getenv("X")`,
`"X" in os.environ`, with a module-level string constant as the name too (`ENABLE_VARIABLE`);
an f-string name (`f"AWS_ENDPOINT_URL_{service}"`) counts as its constant prefix, and any
other non-literal name fails, so a read cannot hide from `test_samlocal.py`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Reads:
    names: dict[str, set[str]] = field(default_factory=dict)  # variable -> files reading it
    prefixes: dict[str, set[str]] = field(default_factory=dict)  # f-string prefix -> files

    def add(self, other: Reads) -> None:
        for mine, theirs in ((self.names, other.names), (self.prefixes, other.prefixes)):
            for key, files in theirs.items():
                mine.setdefault(key, set()).update(files)


def _is_environ(node: ast.AST) -> bool:
    """`os.environ` or a bare `environ` (from os import environ)."""
    if isinstance(node, ast.Attribute) and node.attr == "environ":
        return isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _constants(tree: ast.Module) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                for target in targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = value.value
    return found


@cache
def file_reads(path: Path) -> Reads:
    """Cached: the result is shared, so callers merge it (`Reads.add`), never change it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = _constants(tree)
    reads = Reads()
    where = str(path.relative_to(ROOT))

    def note(arg: ast.AST) -> None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            reads.names.setdefault(arg.value, set()).add(where)
        elif isinstance(arg, ast.Name) and arg.id in constants:
            reads.names.setdefault(constants[arg.id], set()).add(where)
        elif isinstance(arg, ast.JoinedStr):
            head = arg.values[0] if arg.values else None
            prefix = head.value if isinstance(head, ast.Constant) else ""
            reads.prefixes.setdefault(str(prefix), set()).add(where)
        else:
            line = getattr(arg, "lineno", "?")
            raise AssertionError(f"{where}:{line}: environment variable name not static")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and (
                (func.attr in ("get", "setdefault", "pop") and _is_environ(func.value))
                or (func.attr == "getenv" and isinstance(func.value, ast.Name))
            ):
                note(node.args[0])
        elif (
            isinstance(node, ast.Subscript)
            and _is_environ(node.value)
            and isinstance(node.ctx, ast.Load)
        ):
            note(node.slice)
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            note(node.left)
    return reads
