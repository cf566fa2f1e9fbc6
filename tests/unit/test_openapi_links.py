"""The document's OpenAPI links (infra/openapi_links.py): every link resolves, the resource
lifecycles are linked, and a link whose producer stops naming the id fails the build.

Reads the committed document (`test_openapi_document.py` fails when it is stale)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra import openapi_links

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text())
    return loaded


def _links(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(source label, target label, link, source 2xx response) for every link."""
    by_id = {
        operation["operationId"]: f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    target = by_id[link["operationId"]]  # KeyError: a dangling link
                    found.append((f"{method.upper()} {path}", target, link, response))
    return found


def test_every_link_names_real_operations_parameters_and_fields(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    links = _links(document)
    assert len(links) >= 80
    for source, target, link, response in links:
        source_path, target_path = source.split(" ", 1)[1], target.split(" ", 1)[1]
        for parameter, expression in link.get("parameters", {}).items():
            location, name = parameter.split(".", 1)
            assert location == "path" and f"{{{name}}}" in target_path, (source, target)
            if expression.startswith("$request.path."):
                assert f"{{{expression.rsplit('.', 1)[1]}}}" in source_path, (source, target)
        expressions = [*link.get("parameters", {}).values(), *_strings(link.get("requestBody"))]
        for expression in expressions:
            match = re.fullmatch(r"\$response\.body#/(\w+)", expression)
            if match:
                schema = response["content"]["application/json"]["schema"]
                model = schemas[schema["$ref"].rsplit("/", 1)[1]]
                assert match.group(1) in model["properties"], (source, target)


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("POST /v0/tenants", "DELETE /v0/tenants/{tenantId}"),
        ("POST /v0/tenants/{tenantId}/tenants", "PUT /v0/tenants/{tenantId}"),
        ("POST /v0/users", "GET /v0/users/{userId}"),
        ("POST /v0/users/invite", "PUT /v0/users/{userId}/roles"),
        ("POST /v0/tenants/{tenantId}/users", "DELETE /v0/tenants/{tenantId}/users/{userId}"),
        (
            "POST /v0/tenants/{tenantId}/users/createOrUpdate",
            "PUT /v0/tenants/{tenantId}/users/{userId}/active",
        ),
        ("POST /v0/roles", "DELETE /v0/roles/{roleName}"),
        ("POST /v0/tenants/{tenantId}/roles", "POST /v0/tenants/{tenantId}/roles/invite"),
        ("POST /v0/keys", "POST /v0/keys/verify"),
        ("POST /v0/keys", "PUT /v0/keys/invalidate"),
        ("POST /v0/keys", "DELETE /v0/keys"),
        ("POST /v0/imports", "GET /v0/imports/{importId}"),
        ("POST /v0/tenants/{tenantId}/imports", "DELETE /v0/tenants/{tenantId}/imports/{importId}"),
        ("POST /v0/tenants/{tenantId}/saml/sps", "PUT /v0/tenants/{tenantId}/saml/sps/{spId}"),
        (
            "PUT /v0/tenants/{tenantId}/emails/{emailType}",
            "GET /v0/tenants/{tenantId}/emails/{emailType}",
        ),
        (
            "PUT /v0/tenants/{tenantId}/sso/{provider}",
            "DELETE /v0/tenants/{tenantId}/sso/{provider}",
        ),
    ],
)
def test_resource_lifecycles_are_linked(document: dict[str, Any], source: str, target: str) -> None:
    assert (source, target) in {(s, t) for s, t, _, _ in _links(document)}


def test_tenant_scoped_links_keep_the_tenant_of_the_request(document: dict[str, Any]) -> None:
    """A user made under `/v0/tenants/{tenantId}` is read under that same tenant; only a
    child tenant's creation hands on a new `tenantId` (its own)."""
    for source, target, link, _ in _links(document):
        if "{tenantId}" not in source or "{tenantId}" not in target:
            continue
        expected = "$response.body#/tenantId" if source.endswith("/tenants") else None
        expected = expected or "$request.path.tenantId"
        assert link["parameters"]["path.tenantId"] == expected, (source, target)


def test_a_producer_that_does_not_name_the_id_fails_the_build(document: dict[str, Any]) -> None:
    paths = copy.deepcopy(document["paths"])
    schemas = copy.deepcopy(document["components"]["schemas"])
    for item in paths.values():
        for operation in item.values():
            for response in operation["responses"].values():
                response.pop("links", None)
    openapi_links.add_links(copy.deepcopy(paths), schemas)  # the real table builds
    del schemas["Role"]["properties"]["name"]
    with pytest.raises(SystemExit, match=r"POST /v0/roles does not name 'name'"):
        openapi_links.add_links(paths, schemas)
