"""OpenAPI 3.1 `links` of the document: which answer feeds which operation.

A link says "the `userId` in the answer of `POST /v0/users` is the `{userId}` of
`GET /v0/users/{userId}`". Schemathesis' stateful phase follows them (docs/openapi.md,
"Schemathesis"): it creates a resource, then reads, changes and deletes that very resource,
which random ids never reach. Readers of the document get the same map of the lifecycles.

`LINKS` is the whole table, one row per producing operation: the field of its 2xx JSON
answer that names what it made, where that value goes in the consumers, and the consumers.
Any other path parameter a consumer shares with the producer (`{tenantId}`,
`{emailType}`) is passed on from the producer's own request. `add_links` checks every row
against the document (both operations exist, the producer's answer schema names the
field) and fails the build otherwise, so a renamed route or field cannot leave a dead link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PATH_PARAMETER = re.compile(r"{([^}]+)}")


@dataclass(frozen=True)
class Link:
    """`source` ("POST /v0/users") answers `field`; it fills `into` of every target.

    `into` is a path parameter name (default: `field`), `body.<name>` for a body field or
    `body.<name>[]` for a body field that is a one-item list. `field=None`: the producer
    names nothing new, its path parameters are the id (a `PUT` that creates the resource).
    """

    source: str
    field: str | None
    targets: tuple[str, ...]
    into: str | None = None


def _item(path: str, *more: tuple[str, str]) -> tuple[str, ...]:
    """Read, update and delete of the item at `path`, plus `more` (method, sub-path)."""
    extra = (f"{method} {path}{sub}" for method, sub in more)
    return (f"GET {path}", f"PUT {path}", f"DELETE {path}", *extra)


_USER_ROUTES = (
    ("PUT", "/active"),
    ("POST", "/active"),
    ("PUT", "/roles"),
    ("POST", "/roles"),
    ("GET", "/sessions"),
    ("DELETE", "/sessions"),
    ("DELETE", "/totp"),
)


def _user_links(prefix: str) -> tuple[Link, ...]:
    """The server API's user routes, at account level (`/v0`) or under a tenant."""
    targets = _item(f"{prefix}/users/{{userId}}", *_USER_ROUTES)
    return tuple(
        Link(f"POST {prefix}/users{suffix}", "userId", targets)
        for suffix in ("", "/createOrUpdate", "/invite")
    )


def _role_links(prefix: str) -> tuple[Link, ...]:
    return (
        Link(f"POST {prefix}/roles", "name", (f"DELETE {prefix}/roles/{{roleName}}",), "roleName"),
        Link(f"POST {prefix}/roles", "name", (f"DELETE {prefix}/roles",), "body.name"),
        Link(f"POST {prefix}/roles", "name", (f"POST {prefix}/roles/invite",), "body.roles[]"),
    )


def _import_links(prefix: str) -> tuple[Link, ...]:
    item = f"{prefix}/imports/{{importId}}"
    return (Link(f"POST {prefix}/imports", "importId", (f"GET {item}", f"DELETE {item}")),)


_TENANT = "/v0/tenants/{tenantId}"
_TENANT_TARGETS = (*_item(_TENANT), f"GET {_TENANT}/settings", f"POST {_TENANT}/users")
_KEY_TARGETS = ("POST /v0/keys/verify", "PUT /v0/keys/invalidate", "DELETE /v0/keys")
_EMAIL = f"{_TENANT}/emails/{{emailType}}"
_SP = f"{_TENANT}/saml/sps/{{spId}}"
_SSO = f"{_TENANT}/sso/{{provider}}"
_SSO_CUSTOM = f"{_TENANT}/sso/custom/{{providerId}}"

LINKS: tuple[Link, ...] = (
    Link("POST /v0/tenants", "tenantId", _TENANT_TARGETS),
    Link(f"POST {_TENANT}/tenants", "tenantId", _TENANT_TARGETS),
    *_user_links("/v0"),
    *_user_links(_TENANT),
    *_role_links("/v0"),
    *_role_links(_TENANT),
    Link("POST /v0/keys", "key", _KEY_TARGETS, "body.key"),
    *_import_links("/v0"),
    *_import_links(_TENANT),
    Link(f"POST {_TENANT}/saml/sps", "spId", (f"GET {_SP}", f"PUT {_SP}", f"DELETE {_SP}")),
    Link(f"PUT {_EMAIL}", None, (f"GET {_EMAIL}", f"DELETE {_EMAIL}", f"POST {_EMAIL}/preview")),
    Link(f"PUT {_SSO}", None, (f"GET {_SSO}", f"DELETE {_SSO}")),
    Link(f"PUT {_SSO_CUSTOM}", None, (f"GET {_SSO_CUSTOM}", f"DELETE {_SSO_CUSTOM}")),
)


def _operation(paths: dict[str, Any], label: str) -> dict[str, Any]:
    method, path = label.split(" ", 1)
    operation: dict[str, Any] | None = paths.get(path, {}).get(method.lower())
    if operation is None:
        raise SystemExit(f"link: {label} is not in the document")
    return operation


def _success(operation: dict[str, Any], label: str) -> tuple[str, dict[str, Any]]:
    for status, response in operation["responses"].items():
        if status.startswith("2") and "$ref" not in response:
            return status, response
    raise SystemExit(f"link: {label} documents no 2xx answer to link from")


def _names_field(response: dict[str, Any], field: str, schemas: dict[str, Any]) -> bool:
    """Does the answer's JSON schema name `field` (a property of it, or of its model)?"""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return field in schema.get("properties", {})


def _definition(link: Link, source_path: str, target: dict[str, Any], target_path: str) -> Any:
    shared = set(_PATH_PARAMETER.findall(source_path))
    parameters = {
        f"path.{name}": f"$request.path.{name}"
        for name in _PATH_PARAMETER.findall(target_path)
        if name in shared
    }
    definition: dict[str, Any] = {"operationId": target["operationId"]}
    if link.field is not None:
        value = f"$response.body#/{link.field}"
        into = link.into or link.field
        if into.startswith("body."):
            name = into.removeprefix("body.")
            if name.endswith("[]"):
                definition["requestBody"] = {name.removesuffix("[]"): [value]}
            else:
                definition["requestBody"] = {name: value}
        else:
            if into not in _PATH_PARAMETER.findall(target_path):
                raise SystemExit(f"link: {target_path} has no path parameter {into}")
            parameters[f"path.{into}"] = value
    if parameters:
        definition["parameters"] = dict(sorted(parameters.items()))
    return definition


def add_links(paths: dict[str, dict[str, Any]], schemas: dict[str, Any]) -> None:
    """Write `LINKS` into the 2xx answers of the producing operations (in place)."""
    for link in LINKS:
        source = _operation(paths, link.source)
        _, response = _success(source, link.source)
        if link.field is not None and not _names_field(response, link.field, schemas):
            raise SystemExit(f"link: the answer of {link.source} does not name {link.field!r}")
        source_path = link.source.split(" ", 1)[1]
        links = response.setdefault("links", {})
        for label in link.targets:
            target = _operation(paths, label)
            target_path = label.split(" ", 1)[1]
            links[target["operationId"]] = _definition(link, source_path, target, target_path)
