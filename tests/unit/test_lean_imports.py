"""`portcullis.lean_imports`: functions skip the Powertools modules they never use, and
everything they do use (and every name the real packages export) still works.

Whatever depends on import order runs in a fresh interpreter: this test process has long
imported Powertools for real.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portcullis import lean_imports

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"
HTTP_FUNCTIONS = sorted(
    path.parent.name
    for path in (ROOT / "functions").glob("*/app.py")
    if "create_app" in path.read_text()
)
# Modules only the resolvers and event classes a function does not use pull in.
UNUSED = (
    "asyncio",
    "aws_lambda_powertools.event_handler.appsync",
    "aws_lambda_powertools.event_handler.bedrock_agent",
    "aws_lambda_powertools.event_handler.http_resolver",
    "aws_lambda_powertools.utilities.data_classes.s3_event",
    "aws_lambda_powertools.utilities.data_classes.kafka_event",
    "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
)
LAMBDA_ENV = {
    "TABLE_NAME": "portcullis-lean-imports",
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
}


def _run(code: str, *paths: Path, **env: str) -> dict:
    """Run `code` in a fresh interpreter whose sys.path starts like Lambda's; it prints
    one JSON line as its result."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYDANTIC_")}
    environment.pop("PORTCULLIS_LEAN_IMPORTS", None)
    environment.update(LAMBDA_ENV, **env)
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in (*paths, LAYER)]!r}\n"
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_pin_is_the_layer_pin() -> None:
    requirements = (LAYER / "requirements.txt").read_text()
    pinned = re.search(r"^aws-lambda-powertools(?:\[[^\]]*\])?==(\S+)", requirements, re.M)
    assert pinned is not None
    assert pinned.group(1) == lean_imports.POWERTOOLS_VERSION, (
        "Powertools was upgraded: check that the __init__ of every package in "
        "lean_imports.LEAN_PACKAGES still only re-exports, then update POWERTOOLS_VERSION"
    )


@pytest.mark.parametrize("group", HTTP_FUNCTIONS)
def test_function_import_skips_unused_powertools_modules(group: str) -> None:
    result = _run(
        f"""
        import json, sys
        import app
        from portcullis import lean_imports
        print(json.dumps({{
            "loaded": [m for m in {UNUSED!r} if m in sys.modules],
            "lean": [n for n in lean_imports.LEAN_PACKAGES
                     if lean_imports.is_lean(sys.modules[n])],
        }}))
        """,
        ROOT / "functions" / group,
    )
    assert result["loaded"] == []
    assert result["lean"] == list(lean_imports.LEAN_PACKAGES)


def test_every_export_is_the_object_the_real_package_exports() -> None:
    """Run each real `__init__` afterwards in a scratch namespace and compare, name by
    name, with what the lean package hands out."""
    result = _run(
        """
        import importlib.util, json, sys
        from portcullis import lean_imports
        problems, checked = [], 0
        for name in lean_imports.LEAN_PACKAGES:
            lean = sys.modules[name]
            assert lean_imports.is_lean(lean), name
            spec = importlib.util.find_spec(name)
            namespace = {"__name__": name, "__package__": name, "__path__": lean.__path__}
            exec(compile(spec.loader.get_source(name), spec.origin, "exec"), namespace)
            for attr in namespace["__all__"]:
                checked += 1
                if getattr(lean, attr) is not namespace[attr]:
                    problems.append(f"{name}.{attr}")
            if sorted(lean.__all__) != sorted(namespace["__all__"]):
                problems.append(f"{name}.__all__")
        from aws_lambda_powertools.utilities.data_classes import event_source
        print(json.dumps({"problems": problems, "checked": checked,
                          "event_source_is_function": callable(event_source)
                          and not isinstance(event_source, type(sys))}))
        """
    )
    assert result["problems"] == []
    assert result["checked"] > 60
    assert result["event_source_is_function"]


def test_resolver_works_through_the_lean_packages() -> None:
    """Validation (body model, query and path parameters), the error envelope, 404/405
    and the logged unexpected error, through `portcullis.platform.http` as the functions use it."""
    result = _run(
        """
        import json, sys
        from typing import Annotated
        from pydantic import BaseModel, ConfigDict
        from portcullis.platform.http import Response, create_app, handler, json_response
        from aws_lambda_powertools.event_handler.openapi.params import Query

        class Body(BaseModel):
            model_config = ConfigDict(strict=True, extra="forbid")
            name: str

        app = create_app()

        @app.post("/v0/things/<thingId>")
        def create(thingId: str, body: Body,
                   limit: Annotated[int, Query()] = 10) -> Response[dict]:
            return json_response({"id": thingId, "name": body.name, "limit": limit})

        @app.get("/v0/boom")
        def boom() -> dict:
            raise RuntimeError("boom")

        lambda_handler = handler(app)
        from types import SimpleNamespace
        context = SimpleNamespace(function_name="f", memory_limit_in_mb=1024,
                                  invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
                                  aws_request_id="aws-1")

        def call(method, path, body=None, query=None):
            event = {
                "httpMethod": method, "path": path, "resource": path,
                "headers": {"content-type": "application/json"},
                "queryStringParameters": query, "multiValueQueryStringParameters":
                    {k: [v] for k, v in (query or {}).items()} or None,
                "body": json.dumps(body) if body is not None else None,
                "isBase64Encoded": False,
                "requestContext": {"requestId": "req-1", "identity": {"sourceIp": "1.2.3.4"},
                                   "stage": "test"},
            }
            result = lambda_handler(event, context)
            return result["statusCode"], json.loads(result["body"] or "null")

        print(json.dumps({
            "ok": call("POST", "/v0/things/t1", {"name": "a"}, {"limit": "5"}),
            "bad_body": call("POST", "/v0/things/t1", {"name": 1}),
            "extra": call("POST", "/v0/things/t1", {"name": "a", "x": 1}),
            "bad_query": call("POST", "/v0/things/t1", {"name": "a"}, {"limit": "x"}),
            "not_found": call("GET", "/v0/nothing"),
            "wrong_method": call("GET", "/v0/things/t1"),
            "unexpected": call("GET", "/v0/boom"),
            "asyncio": "asyncio" in sys.modules,
        }))
        """
    )
    assert result["ok"] == [200, {"id": "t1", "name": "a", "limit": 5}]
    for case in ("bad_body", "extra", "bad_query"):
        status, body = result[case]
        assert status == 400, (case, body)
    assert result["not_found"][0] == 404
    assert result["wrong_method"][0] == 405
    assert result["unexpected"][0] == 500
    assert result["asyncio"] is False


def test_unexpected_error_log_carries_the_request_id() -> None:
    result = _run(
        """
        import io, json, logging
        from portcullis.platform import http

        app = http.create_app()

        @app.get("/v0/boom")
        def boom() -> dict:
            raise RuntimeError("boom")

        from types import SimpleNamespace
        context = SimpleNamespace(function_name="f", memory_limit_in_mb=1024,
                                  invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
                                  aws_request_id="aws-1")
        stream = io.StringIO()
        for h in http.logger.handlers:
            h.setStream(stream)
        event = {"httpMethod": "GET", "path": "/v0/boom", "resource": "/v0/boom",
                 "headers": {}, "body": None, "isBase64Encoded": False,
                 "requestContext": {"requestId": "req-42", "identity": {}, "stage": "t"}}
        status = http.handler(app)(event, context)["statusCode"]
        print(json.dumps({"status": status, "log": stream.getvalue()}))
        """
    )
    assert result["status"] == 500
    assert '"requestId":"req-42"' in result["log"].replace(" ", "")
    assert "Unhandled error" in result["log"]


def test_falls_back_to_the_normal_import_for_another_powertools_version() -> None:
    result = _run(
        """
        import json, sys
        import aws_lambda_powertools.shared.version as version
        version.VERSION = "0.0.0"
        from portcullis import lean_imports
        from portcullis.platform.http import create_app
        create_app()
        package = sys.modules["aws_lambda_powertools.event_handler"]
        print(json.dumps({"lean": lean_imports.is_lean(package),
                          "appsync": "aws_lambda_powertools.event_handler.appsync" in sys.modules}))
        """
    )
    assert result == {"lean": False, "appsync": True}


def test_can_be_switched_off() -> None:
    result = _run(
        """
        import json, sys
        from portcullis import lean_imports
        print(json.dumps({"installed": lean_imports.install(),
                          "imported": "aws_lambda_powertools.event_handler" in sys.modules}))
        """,
        PORTCULLIS_LEAN_IMPORTS="0",
    )
    assert result == {"installed": [], "imported": False}


def test_pydantic_plugin_discovery_is_skipped_and_nothing_is_lost() -> None:
    from importlib.metadata import entry_points

    assert list(entry_points(group="pydantic")) == []  # no plugin installed to skip
    result = _run(
        """
        import json, os
        import portcullis
        print(json.dumps({"setting": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}))
        """
    )
    assert result == {"setting": "__all__"}


@pytest.mark.parametrize(
    "source",
    [
        "import os\n",  # plain import: may have side effects
        "from os import path\n",  # from outside the package
        "from .x import *\n",
        "from .x import y\nsetup()\n",
        "from .x import y\n__all__ = ['y', 'z']\n",  # exports a name it does not import
        "from . import x\n",
    ],
)
def test_anything_but_plain_re_exports_keeps_the_normal_import(source: str) -> None:
    assert lean_imports._exports("pkg.sub", source) is None


def test_re_exports_are_read_from_the_package_source() -> None:
    source = '"""Doc."""\nfrom __future__ import annotations\nfrom .a import B, C as D\n'
    source += "from pkg.sub.e import F\nfrom ..g import H\n__all__ = ['B', 'D', 'F']\n"
    assert lean_imports._exports("pkg.sub", source) is None  # `..g` is outside pkg.sub
    source = source.replace("from ..g import H\n", "")
    assert lean_imports._exports("pkg.sub", source) == (
        {"B": ("pkg.sub.a", "B"), "D": ("pkg.sub.a", "C"), "F": ("pkg.sub.e", "F")},
        ["B", "D", "F"],
    )


ALL_FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))


@pytest.mark.parametrize("group", ALL_FUNCTIONS)
def test_collection_is_back_to_normal_once_a_function_is_imported(group: str) -> None:
    """In Lambda the collector runs rarely while the code is imported; every function must
    hand it back (thresholds restored, the imported objects frozen) when its import ends."""
    code = """
        import gc, json
        default = gc.get_threshold()
        import portcullis
        during = gc.get_threshold()
        import app
        print(json.dumps({"default": default, "during": during,
                          "after": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                          "enabled": gc.isenabled()}))
    """
    seen = _run(code, ROOT / "functions" / group, AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001")
    assert seen["during"] == list(lean_imports.INIT_THRESHOLDS)
    assert seen["after"] == seen["default"]
    assert seen["frozen"] > 0 and seen["enabled"]


def test_collection_is_untouched_outside_lambda() -> None:
    code = """
        import gc, json
        default = gc.get_threshold()
        import portcullis
        print(json.dumps({"default": default, "during": gc.get_threshold()}))
    """
    seen = _run(code)
    assert seen["during"] == seen["default"]
