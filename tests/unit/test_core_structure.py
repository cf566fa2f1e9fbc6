"""The shape of the core (issue 9, docs/architecture.md): no import cycle among its
modules, packages in layers, and DynamoDB reached only through `store/`.

Imports are read from the source (ast), not by importing: an import inside a function
counts like one at the top (a cycle broken by a deferred import is still a cycle); only
imports under `if TYPE_CHECKING:` are left out of the cycle check, as they never run (the
layer check counts them too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "layers" / "core"
PACKAGE = CORE / "portcullis"
FUNCTIONS = ROOT / "functions"

# Bottom to top: a package may import only packages listed before it (and itself).
LAYERS = [
    "platform",
    "store",
    "search",
    "tenancy",
    "tokens",
    "webhooks",
    "messaging",
    "ratelimit",
    "credentials",
    "sessions",
    "access",
    "users",
    "imports",
    "auth",
    "sso",
    "saml",
    "tenants",
    "admin",
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(path: Path, known: set[str], *, type_only: bool = False) -> Iterator[str]:
    """Every module `path` imports at run time (and, with `type_only`, for type checking),
    resolved to the most specific known name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if not type_only and isinstance(node, ast.If) and _is_type_checking(node):
            skipped.update(id(child) for body in node.body for child in ast.walk(body))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield candidate if candidate in known else node.module


def core_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def core_graph(*, type_only: bool = False) -> nx.DiGraph:
    modules = core_modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in imported(path, set(modules), type_only=type_only):
            if target in modules and target != name and target != "portcullis":
                graph.add_edge(name, target)
    return graph


def package_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def test_no_import_cycle_among_core_modules() -> None:
    cycles = list(nx.simple_cycles(core_graph()))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:10])


def test_every_core_module_belongs_to_a_layer() -> None:
    stray = [m for m in core_modules() if m != "portcullis" and package_of(m) not in LAYERS]
    assert stray == []


def test_packages_import_only_the_layers_below_them() -> None:
    """Type-only imports included: a lower package that needs the shape of a higher one's
    object declares a Protocol (e.g. `ratelimit.subjects`)."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = sorted(
        f"{a} -> {b}"
        for a, b in core_graph(type_only=True).edges
        if a != "portcullis"
        and b != "portcullis"
        and rank.get(package_of(b), -1) > rank.get(package_of(a), -1)
    )
    assert upward == []


@pytest.mark.parametrize(
    "path",
    [p for p in PACKAGE.rglob("*.py") if "store" not in p.relative_to(PACKAGE).parts[:1]],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_only_store_talks_to_dynamodb(path: Path) -> None:
    """pynamodb (and so DynamoDB) is reached only through `portcullis.store`; boto3 only
    there and in `platform/aws.py` (the SES, SNS, EventBridge and KMS clients)."""
    banned = {"pynamodb"} if path == PACKAGE / "platform" / "aws.py" else {"pynamodb", "boto3"}
    found = [m for m in imported(path, set()) if m.split(".")[0] in banned]
    assert found == []


@pytest.mark.parametrize("path", sorted(FUNCTIONS.glob("*/app.py")), ids=lambda p: p.parent.name)
def test_functions_do_not_reach_into_the_store(path: Path) -> None:
    found = [m for m in imported(path, set()) if m.startswith(("portcullis.store", "pynamodb"))]
    assert found == []
