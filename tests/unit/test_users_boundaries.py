"""The users package's boundaries (issue 9), read from the source: the store is closed
(no pynamodb outside `store/`, no `portcullis.store` in a function), role definitions
never import users (the old `users` <-> `roles` cycle), and the users and roles functions
stay thin."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "layers" / "core" / "portcullis"
FUNCTIONS = ROOT / "functions"


def imported(path: Path) -> set[str]:
    """Every module a file imports, at top level or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offenders(paths: list[Path], prefix: str) -> list[str]:
    return sorted(
        str(path.relative_to(ROOT))
        for path in paths
        if any(name == prefix or name.startswith(prefix + ".") for name in imported(path))
    )


def test_only_the_store_imports_pynamodb() -> None:
    outside = [p for p in CORE.rglob("*.py") if "store" not in p.relative_to(CORE).parts]
    assert len(outside) > 50
    assert offenders(outside, "pynamodb") == []
    assert offenders(list(FUNCTIONS.glob("*/app.py")), "pynamodb") == []


def test_no_function_imports_the_store() -> None:
    apps = list(FUNCTIONS.glob("*/app.py"))
    assert len(apps) >= 8
    assert offenders(apps, "portcullis.store") == []


def test_role_definitions_and_the_rest_of_access_never_import_users() -> None:
    assert offenders(list((CORE / "access").glob("*.py")), "portcullis.users") == []


def test_the_users_and_roles_functions_are_at_most_250_lines() -> None:
    for name in ("users", "roles"):
        lines = (FUNCTIONS / name / "app.py").read_text().count("\n")
        assert lines <= 250, (name, lines)
