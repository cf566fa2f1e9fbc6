"""The API's OpenAPI 3.1 document, built from the functions' own resolvers.

Every `functions/<group>/app.py` that builds a Powertools resolver (`app`) describes its
routes and pydantic request models itself (`get_openapi_schema`), and names each answer
model by reference (`portcullis.platform.http.answers`: the functions never import the
models), which this resolves to the model before generating; it merges those documents
into one, tags each operation with its function, and replaces what Powertools
assumes about errors (a 422 `HTTPValidationError`) with what Portcullis answers: the
error envelope (api-server §1.1) with 400, 401, 403, 404, 429 and 500.

    python -m infra.openapi            # writes docs/openapi.json and the served copy
    python -m infra.openapi --check    # exit 1 when either copy is stale

The document is generated once, at build time, and committed: the `openapi` function
serves the committed copy (`functions/openapi/openapi.json`), so no request ever imports
every function (cold start).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.openapi_links import add_links
from portcullis.platform.http import ANSWER_MODEL

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
DOCUMENT = ROOT / "docs" / "openapi.json"
SERVED = FUNCTIONS / "openapi" / "openapi.json"
VERSION = "0"
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")

DESCRIPTION = (
    "Portcullis: a self-hostable, Userfront-compatible auth service. Client routes "
    "(`/v0/tenants/{tenantId}/auth/...`, `/v0/self`, `/v0/auth/...`) are called by "
    "`@userfront/core` from the browser; server routes take an API key (or an admin's "
    "access token) as `Authorization: Bearer ...`. Every error answers the envelope "
    "`{statusCode, message, error: {type}}`. See docs/openapi.md."
)

# Security: which credential each function's routes take (api-server §4, api-client §11).
_API = [{"apiKey": []}, {"accessToken": []}]
_TOKEN = [{"accessToken": []}]
SECURITY_BY_FUNCTION: dict[str, list[dict[str, list[str]]]] = {
    "self": _TOKEN,
    "auth": [],
    "mode": [],
    "openapi": [],
}
# Routes of an otherwise public or API function that take another credential.
SECURITY_BY_OPERATION: dict[tuple[str, str], list[dict[str, list[str]]]] = {
    ("put", "/v0/tenants/{tenantId}/auth/basic"): _TOKEN,
    ("put", "/v0/auth/basic"): _TOKEN,
    ("delete", "/v0/auth/totp"): _TOKEN,
    ("get", "/v0/tenants/{tenantId}/jwks"): [],
    ("get", "/v0/tenants/{tenantId}/jwks/{mode}"): [],
}
# The SAML IdP's browser routes (functions/saml) answer pages, metadata XML and redirects,
# not JSON; their errors are HTML pages (except the envelope of a 405 / 413). Declared
# here until the routes declare their own `responses=`.
_SAML_BROWSER = "/auth/saml/idp/"
_PAGE = {"text/html": {"schema": {"type": "string"}}}
SAML_BROWSER_RESPONSES: dict[str, Any] = {
    "200": {
        "description": "An HTML page (the form posting to the SP) or the IdP metadata",
        "content": {**_PAGE, "application/samlmetadata+xml": {"schema": {"type": "string"}}},
    },
    "302": {"description": "A redirect to the service provider or to log in"},
    "default": {
        "description": "An error page (the envelope for 405 and 413)",
        "content": {
            **_PAGE,
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}},
        },
    },
}

# Factor routes accept the first-factor token of a log-in that needs a second factor.
_FIRST_FACTOR_SUFFIXES = ("/auth/totp", "/auth/code", "/auth/mfa", "/auth/link")

SECURITY_SCHEMES: dict[str, Any] = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key of the tenant (admin, readonly or webhook), "
        "`Authorization: Bearer uf_test_admin_...` (api-server §4).",
    },
    "accessToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A user's RS256 access token (`Authorization: Bearer <JWT>`); on "
        "server routes it must belong to an admin of the tenant.",
    },
    "firstFactorToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The `firstFactorToken` a log-in answered when it needs a second "
        "factor, sent as `Authorization: Bearer uf_...` to the factor routes.",
    },
}

ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "title": "ErrorEnvelope",
    "description": "Every error (api-server §1.1). `result` carries extra detail on a "
    "few errors (e.g. which factors a tenant allows).",
    "required": ["statusCode", "message", "error"],
    "properties": {
        "statusCode": {"type": "integer", "minimum": 400, "maximum": 599},
        "message": {"type": "string"},
        "error": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "string"}},
        },
        "result": {},
    },
}
# Statuses any route may answer, each a shared response (`components/responses`).
_ERRORS = {
    "400": ("BadRequest", "Invalid input: the message names the field"),
    "401": ("Unauthorized", "Missing or invalid credential"),
    "403": ("Forbidden", "The credential may not do this (or reach this tenant)"),
    "404": ("NotFound", "Not found"),
    "405": ("MethodNotAllowed", "The path exists, the method does not"),
    "409": ("Conflict", "Conflicts with the current state (e.g. a running job)"),
    "413": ("PayloadTooLarge", "The body is over 1 MiB"),
    "429": ("TooManyRequests", "Rate limited (`Retry-After` says when to retry)"),
    "502": ("ServiceUnavailable", "An upstream service failed"),
}


def _load(group: str) -> ModuleType:
    """Import `functions/<group>/app.py` under a private name (they all are `app`)."""
    source = FUNCTIONS / group / "app.py"
    spec = importlib.util.spec_from_file_location(f"_portcullis_openapi_{group}", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _resolver_groups() -> list[str]:
    """Functions with an HTTP resolver (the workers have none)."""
    return sorted(
        path.parent.name
        for path in FUNCTIONS.glob("*/app.py")
        if "create_app(" in path.read_text(encoding="utf-8")
    )


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                name = value.rsplit("/", 1)[-1]
                value = f"#/components/schemas/{renames.get(name, name)}"
            out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def answer_model(reference: str) -> Any:
    """The model `answers(reference)` names: `"package.module:Model"` imported and read.
    A reference that names nothing fails loudly (LookupError), never an untyped answer."""
    module_name, _, name = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise LookupError(f"answers({reference!r}): no module {module_name!r}") from error
    if not hasattr(module, name):
        raise LookupError(f"answers({reference!r}): {module_name} has no {name!r}")
    return getattr(module, name)


def answer_references(app: Any) -> dict[str, str]:
    """Each route's answer reference (`portcullis.platform.http.answers`), by
    `METHOD path`."""
    return {
        f"{route.method} {route.path}": payload[ANSWER_MODEL]
        for route in app._static_routes + app._dynamic_routes
        for response in (route.responses or {}).values()
        for payload in response.get("content", {}).values()
        if ANSWER_MODEL in payload
    }


def _document_answers(app: Any) -> None:
    """Give every route its answer model under Powertools' `"model"`, in place of the
    reference the function carries (a reference costs the Lambdas nothing; only the
    document needs the class). Copies: the routes share their `responses=` constants."""
    for route in app._static_routes + app._dynamic_routes:
        if route.responses:
            route.responses = {
                status: _with_model(response) for status, response in route.responses.items()
            }


def _with_model(response: dict[str, Any]) -> dict[str, Any]:
    if "content" not in response:
        return response
    content = {}
    for media_type, payload in response["content"].items():
        if ANSWER_MODEL in payload:
            rest = {k: v for k, v in payload.items() if k != ANSWER_MODEL}
            payload = {"model": answer_model(payload[ANSWER_MODEL]), **rest}
        content[media_type] = payload
    return {**response, "content": content}


def _function_document(group: str, app: Any) -> dict[str, Any]:
    _document_answers(app)
    schema = app.get_openapi_schema(title="Portcullis", version=VERSION, openapi_version="3.1.0")
    document: dict[str, Any] = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
    return document


def _shared_responses() -> dict[str, Any]:
    envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    return {name: {"description": text, "content": envelope} for name, text in _ERRORS.values()}


def _error_responses() -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/{name}"} for code, (name, _) in _ERRORS.items()}


def _security(group: str, method: str, path: str) -> list[dict[str, list[str]]]:
    if (method, path) in SECURITY_BY_OPERATION:
        return SECURITY_BY_OPERATION[(method, path)]
    if _SAML_BROWSER in path and not path.endswith("/token"):
        return []  # the browser's own requests (SAML redirect and POST bindings)
    chosen = SECURITY_BY_FUNCTION.get(group, _API)
    if group == "auth" and any(path.endswith(s) for s in _FIRST_FACTOR_SUFFIXES):
        # The token is optional here: `{}` is "no credential" (OpenAPI 3.1 §4.8.10).
        return [{"firstFactorToken": []}, {}]
    return chosen


def build() -> dict[str, Any]:
    """The merged document: deterministic (sorted) so a stale copy shows as a diff."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"ErrorEnvelope": ERROR_ENVELOPE}
    tags = []
    for group in _resolver_groups():
        module = _load(group)
        document = _function_document(group, module.app)
        doc_line = (module.__doc__ or group).strip().splitlines()[0]
        tags.append({"name": group, "description": doc_line})
        renames: dict[str, str] = {}
        own = document.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
            own.pop(name, None)
        for name, schema in own.items():
            if name in schemas and schemas[name] != schema:
                renames[name] = f"{group}_{name}"
        for name, schema in own.items():
            schemas[renames.get(name, name)] = _rename_refs(schema, renames)
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if method not in _METHODS:
                    continue
                operation = _rename_refs(operation, renames)
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                if _SAML_BROWSER in path and not path.endswith("/token"):
                    operation["responses"] = dict(SAML_BROWSER_RESPONSES)
                else:
                    for code, answer in _error_responses().items():
                        responses.setdefault(code, answer)
                operation["tags"] = [group]
                operation["security"] = _security(group, method, path)
                if method in paths.get(path, {}):
                    raise SystemExit(f"{method.upper()} {path} is served by two functions")
                paths.setdefault(path, {})[method] = operation
    add_links(paths, schemas)  # links between operations: infra/openapi_links.py
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portcullis API",
            "version": VERSION,
            "description": DESCRIPTION,
            "license": {"name": "See the repository"},
        },
        "servers": [{"url": "/"}],
        "tags": tags,
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            "schemas": {name: schemas[name] for name in sorted(schemas)},
            "responses": _shared_responses(),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a copy is stale")
    args = parser.parse_args(argv)
    text = render(build())
    targets = (DOCUMENT, SERVED)
    if args.check:
        stale = [t for t in targets if not t.exists() or t.read_text(encoding="utf-8") != text]
        for target in stale:
            print(f"{target.relative_to(ROOT)} is stale: run python -m infra.openapi")
        return 1 if stale else 0
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
