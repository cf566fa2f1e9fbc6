"""Live answers checked against docs/openapi.json (issue 15: a route whose answer does
not match its declared model fails a test).

`conforms(response)` finds the operation of `response.request` (method + path, matched
against the document's path templates), takes the schema it declares for that status and
content type, and validates the body with jsonschema (Draft 2020-12, OpenAPI 3.1's
dialect), its `$ref`s resolved inside the document. The wire-snapshot tests call it for
every answer they record, so each snapshot is also a conformance check.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@cache
def _document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Path templates, static ones first (API Gateway's most-specific match)."""
    paths = sorted(_document()["paths"], key=lambda p: (p.count("{"), -len(p)))
    return [(re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", p) + "$"), p) for p in paths]


def operation(method: str, path: str) -> tuple[str, dict[str, Any] | None]:
    """(path template, operation); the operation is None when the path is documented
    without this method (the API answers that 405)."""
    for pattern, template in _templates():
        if pattern.match(path):
            item = _document()["paths"][template]
            if method.lower() in item:
                return template, item[method.lower()]
    for pattern, template in _templates():
        if pattern.match(path):
            return template, None
    raise AssertionError(f"{method} {path} is not in docs/openapi.json")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        target: Any = _document()
        for part in parts:
            target = target[part]
        node = target
    return node


def conforms(response: httpx.Response) -> None:
    """Fail when `response` is not what the document declares for its operation."""
    request = response.request
    template, op = operation(request.method, request.url.path)
    where = f"{request.method} {template} -> {response.status_code}"
    if op is None:
        assert response.status_code == 405, f"{where}: an undocumented method must be a 405"
        op = {"responses": {"405": {"$ref": "#/components/responses/MethodNotAllowed"}}}
    # `default` covers every status not listed (the SAML browser routes' error pages).
    declared = op["responses"].get(str(response.status_code), op["responses"].get("default"))
    assert declared is not None, f"{where}: status not documented"
    content = _resolve(declared).get("content") or {}
    if not response.content:
        return
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    assert kind in content, f"{where}: content type {kind!r} not documented ({list(content)})"
    schema = content[kind].get("schema")
    if schema is None or kind != "application/json":
        return
    # The document's `$ref`s are `#/components/...`: they resolve when the schema
    # validated carries the document's components at its root (an unknown keyword).
    root = {**schema, "components": _document()["components"]}
    validator = Draft202012Validator(root)
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.path))
    assert not errors, f"{where}: " + "; ".join(
        f"{'/'.join(map(str, e.path)) or '<body>'}: {e.message[:200]}" for e in errors[:5]
    )
