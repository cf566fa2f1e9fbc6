"""Lean imports at cold start: load the Powertools resolver we use, not every one it ships.

Why (issue 2; docs/performance.md "Cold start"): the `__init__` of
`aws_lambda_powertools.event_handler` imports every resolver (AppSync pulls in
`asyncio`; Bedrock, VPC Lattice, ...), and that of
`aws_lambda_powertools.utilities.data_classes` imports all ~35 event classes (S3, SQS,
Kafka, CodePipeline, ...). A function uses `APIGatewayRestResolver` and the few event
classes `api_gateway` imports, yet would pay for all of them on every cold start.

How: before anything imports those packages, `install()` puts a lazy module for each
package of `LEAN_PACKAGES` into `sys.modules`. It is made from the package's real spec,
so `__path__`, `__file__` and the submodules (`event_handler.api_gateway`, ...) load
normally; only the package `__init__` is not run. Every name that `__init__` would
export (read from its source, which must hold nothing but `from .x import y` lines and
`__all__`) resolves on first access through a module `__getattr__` (PEP 562):
`from aws_lambda_powertools.event_handler import AppSyncResolver` still works
anywhere, it just imports `appsync` when asked instead of at start-up.

Safety: only for the pinned Powertools version (`POWERTOOLS_VERSION`, the pin of
layers/core/requirements.txt; tests/unit/test_lean_imports.py checks both agree and
that every export resolves to the same object as with the real `__init__`), only for
packages not imported yet, and only when their `__init__` is pure re-exports; anything
unexpected leaves the package to the normal import. `PORTCULLIS_LEAN_IMPORTS=0` turns
it off (to compare, or to rule it out when debugging).

Also here: pydantic's plugin discovery, which scans the metadata of every installed
distribution when the first model is built, is skipped (`PYDANTIC_DISABLE_PLUGINS`,
unless already set): Portcullis installs no pydantic plugin.

`portcullis/__init__.py` calls `install()`, so it runs before any function module
reaches Powertools' event handler or builds a pydantic model.
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

POWERTOOLS_VERSION = "3.37.0"

# (`event_handler.openapi`'s `__init__` was measured too: it costs ~0.3 ms, not worth it.)
LEAN_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
)

# Collector thresholds while a Lambda instance initialises (see `pause_collector`).
INIT_THRESHOLDS = (100_000, 50, 50)
_saved_thresholds: tuple[int, int, int] | None = None

# Exported name -> (defining module, its name there).
Exports = dict[str, tuple[str, str]]


def pause_collector() -> None:
    """Collect rarely while a Lambda instance imports its code.

    Imports create hundreds of thousands of long-lived objects and no garbage, yet the
    default thresholds run a collection every 700 allocations, each scanning the young
    objects and now and then all of them. Only inside Lambda (`AWS_LAMBDA_RUNTIME_API`
    set) and only raised, never switched off: a process that never calls
    `resume_collector` still collects, just less often.
    """
    global _saved_thresholds
    if _saved_thresholds is None and os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        _saved_thresholds = gc.get_threshold()
        gc.set_threshold(*INIT_THRESHOLDS)


def resume_collector() -> None:
    """End of initialisation: freeze what the imports built (later collections skip it
    for good) and restore the normal thresholds."""
    global _saved_thresholds
    if _saved_thresholds is not None:
        gc.freeze()
        gc.set_threshold(*_saved_thresholds)
        _saved_thresholds = None


def install() -> list[str]:
    """Make the packages of `LEAN_PACKAGES` lazy; returns the ones that now are."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if os.environ.get("PORTCULLIS_LEAN_IMPORTS", "1") == "0":
        return []
    try:
        import aws_lambda_powertools  # noqa: F401  (the root is imported anyway: Logger)
        from aws_lambda_powertools.shared.version import VERSION
    except ImportError:
        return []
    if VERSION != POWERTOOLS_VERSION:
        return []
    installed = []
    for name in LEAN_PACKAGES:
        if name in sys.modules:
            continue  # already imported for real (or already lean): left as it is
        try:
            module = _lean_package(name)
        except Exception:  # any surprise: the normal import stays in charge
            module = None
        if module is not None:
            installed.append(name)
    return installed


def is_lean(module: ModuleType) -> bool:
    return bool(getattr(module, "_portcullis_lean", False))


def _lean_package(name: str) -> ModuleType | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return None
    get_source = getattr(spec.loader, "get_source", None)
    source = get_source(name) if get_source else None
    if not source:
        return None
    parsed = _exports(name, source)
    if parsed is None:
        return None
    exports, public = parsed

    module = importlib.util.module_from_spec(spec)
    module._portcullis_lean = True  # type: ignore[attr-defined]
    if public is not None:
        module.__all__ = public  # type: ignore[attr-defined]

    def __getattr__(attr: str) -> Any:
        try:
            source_module, original = exports[attr]
        except KeyError:
            # Not an export: lets `from package import submodule` import the submodule.
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None
        value = getattr(importlib.import_module(source_module), original)
        setattr(module, attr, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[method-assign]

    parent_name, _, child = name.rpartition(".")
    sys.modules[name] = module
    try:
        setattr(sys.modules[parent_name], child, module)
        # A name that is also a submodule's name (data_classes' `event_source` function
        # from `.event_source`) must be bound now: importing the submodule later would
        # otherwise leave the submodule, not the function, under that name.
        for attr, (source_module, _) in exports.items():
            if source_module == f"{name}.{attr}":
                __getattr__(attr)
    except Exception:
        del sys.modules[name]
        parent = sys.modules.get(parent_name)
        if parent is not None and getattr(parent, child, None) is module:
            delattr(parent, child)
        raise
    return module


def _exports(package: str, source: str) -> tuple[Exports, list[str] | None] | None:
    """What the package `__init__` exports, or None if it does anything but re-export."""
    exports: Exports = {}
    public: list[str] | None = None
    for index, node in enumerate(ast.parse(source).body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.ImportFrom):
            absolute = _absolute(package, node)
            if not absolute.startswith(package + "."):
                return None  # imports from elsewhere may have side effects: keep them
            for alias in node.names:
                if alias.name == "*":
                    return None
                exports[alias.asname or alias.name] = (absolute, alias.name)
            continue
        if (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["__all__"]
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            public = [ast.literal_eval(element) for element in node.value.elts]
            continue
        return None
    if public is not None and not set(public) <= set(exports):
        return None
    return exports, public


def _absolute(package: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base
