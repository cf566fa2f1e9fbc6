"""Which environment variables the code of each function can read, found in the source.

An AST walk, not a grep: `os.environ.get("X")`, `os.environ["X"]`, `os.getenv("X")`,
`"X" in os.environ`, with a module-level string constant as the name too (`ENABLE_VARIABLE`);
an f-string name (`f"AWS_ENDPOINT_URL_{service}"`) counts as its constant prefix. A function
reads what its own files read plus every core module they import, transitively (imports
inside functions included: a lazy import still runs in Lambda), so the answer errs on the
side of too many variables, never too few.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "layers" / "core"
PACKAGE = "portcullis"


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
            raise AssertionError(f"{where}:{arg.lineno}: environment variable name not static")

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


def _module_file(dotted: str) -> Path | None:
    base = CORE.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _imported(path: Path) -> frozenset[Path]:
    """Core modules a file imports, with the packages that importing them runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = None
    if CORE in path.parents:
        parts = path.relative_to(CORE).with_suffix("").parts
        package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
        if path.name == "__init__.py":
            package = ".".join(parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level and package is not None:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    files: set[Path] = set()
    for name in names:
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            continue
        parts = name.split(".")
        for end in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c
            found = _module_file(".".join(parts[:end]))
            if found is not None:
                files.add(found)
    return frozenset(files)


def function_reads(code_dir: Path) -> Reads:
    """Everything the function's own files and the core modules they reach can read."""
    pending = sorted(code_dir.rglob("*.py"))
    seen: set[Path] = set()
    reads = Reads()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        reads.add(file_reads(path))
        pending.extend(_imported(path) - seen)
    return reads
