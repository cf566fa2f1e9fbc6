"""Importing the core changes nothing global (issue 9, item 4), and a function only
pauses the collector while its modules load and freezes what they built, in visible
lines at the top and the end of its `app.py`.

No environment variable is set, the garbage collector keeps its settings, and `import
portcullis` puts nothing into `sys.modules` but itself: a module's behaviour must not
depend on which module happened to be imported first. Each check runs in a fresh
interpreter, since this test process has imported everything long ago.
"""

from __future__ import annotations

import ast
import os
import textwrap
from pathlib import Path

import pytest
from freshprocess import ROOT, run_json

FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
LAMBDA_ENV = {
    "TABLE_NAME": "portcullis-import",
    "KMS_KEY_ID": "alias/portcullis-test",
    "EVENT_BUS_NAME": "portcullis-test",
    "SENDER_EMAIL": "no-reply@example.com",
    "STAGE": "test",
    "ALLOWED_ORIGINS": "*",
    "PUBLIC_BASE_URL": "https://api.example.com/prod",
    "POWERTOOLS_SERVICE_NAME": "portcullis",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",  # as inside Lambda
}
# Before and after `statement`: what a module could change for the whole process.
_PROBE = """
import gc, json, os, sys
def state():
    return {"environ": dict(os.environ), "threshold": gc.get_threshold(),
            "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
def initialising():  # an `app` module between its `import gc` and its handler
    names = vars(sys.modules.get("app", sys))
    return "gc" in names and "lambda_handler" not in names
collections = []
gc.callbacks.append(lambda phase, _: phase == "start" and initialising()
                    and collections.append(phase))
before, modules = state(), set(sys.modules)
exec(compile(STATEMENT, "<probe>", "exec"), {})
print(json.dumps({"before": before, "after": state(), "collections": len(collections),
                  "added": sorted(set(sys.modules) - modules)}))
"""


def _probe(statement: str, *paths: Path) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYDANTIC_", "AWS_"))}
    environment.update(LAMBDA_ENV)
    code = f"STATEMENT = {textwrap.dedent(statement)!r}\n" + _PROBE
    return dict(run_json(code, environment, *paths))


def test_import_portcullis_loads_only_itself_and_changes_nothing() -> None:
    seen = _probe("import portcullis")
    assert seen["added"] == ["portcullis"]
    assert seen["after"] == seen["before"]


def test_importing_every_core_module_changes_nothing_global() -> None:
    seen = _probe(
        """
        import importlib, pkgutil, portcullis
        names = [m.name for m in pkgutil.walk_packages(portcullis.__path__, "portcullis.")]
        for name in names:
            importlib.import_module(name)
        assert len(names) > 40, names
        """
    )
    assert "portcullis.store.base" in seen["added"]
    assert seen["after"] == seen["before"]


@pytest.mark.parametrize("group", FUNCTIONS)
def test_a_function_changes_nothing_global_but_freezing_what_it_imported(group: str) -> None:
    """The one lasting global step is the visible `gc.freeze()` that ends each `app.py`
    (docs/performance.md): the imported objects leave the collector's generations. The
    collector is paused while the modules load (no collection runs) and collects again
    once the import is over."""
    seen = _probe("import app", ROOT / "functions" / group)
    assert "app" in seen["added"]
    before, after = seen["before"], seen["after"]
    assert seen["collections"] == 0
    assert after["enabled"] is True
    assert after["frozen"] > before["frozen"] + 10_000
    assert {**after, "frozen": None} == {**before, "frozen": None}


@pytest.mark.parametrize("group", FUNCTIONS)
def test_the_pause_brackets_all_of_a_functions_initialisation(group: str) -> None:
    """`gc.disable()` comes before any other import, and `gc.freeze(); gc.enable()` are
    the last statements: an import above the pause would be collected over, and code
    below the resume would freeze half of what initialisation built."""
    tree = ast.parse((ROOT / "functions" / group / "app.py").read_text())
    statements = [ast.unparse(node) for node in tree.body[1:]]  # after the docstring
    assert ast.get_docstring(tree)
    assert statements[:2] == ["import gc", "gc.disable()"]
    assert [ast.unparse(node) for node in tree.body[-2:]] == ["gc.freeze()", "gc.enable()"]
