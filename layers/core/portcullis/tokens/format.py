"""The custom JWT format language (api-server §12.4–12.6, concepts §2.7): a JSON template
whose `{{path}}` placeholders take the values of one user's claims.

Pure on purpose (no I/O, no users, no tenants): the template is checked once, when an
administrator saves it (`validate`), and rendered at every access-token issuance
(`render`), so both sides must read it the same way. `tokens.claims` supplies the
values and decides what a token finally carries (reserved claims, size limit).

The language (docs/tokens.md "Custom JWTs"):
- a string that is exactly `"{{path}}"` becomes the value at `path` with its JSON type
  kept (object, array, number...); a missing value becomes `null`;
- any other string with placeholders is interpolated as text; a missing or `null`
  value becomes `""`, strings are inserted as they are, other values as compact JSON;
- nested objects and arrays are processed recursively; every other value is copied;
- paths are the catalogue of `CLAIM_PATHS` plus `data.<key>` (nested `data.a.b`) for
  the user's custom data; anything else is refused when the template is saved.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from portcullis.platform.errors import BadRequest

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_WHOLE = re.compile(r"^\{\{\s*([^{}]*?)\s*\}\}$")

# Always present with their true values, whatever a format says (concepts §2.7).
RESERVED = (
    "mode",
    "tenantId",
    "userId",
    "userUuid",
    "sessionId",
    "iat",
    "exp",
    "iss",
    "authorization",
)
# Set by the server on every token: never a key of a format or a payload.
SERVER_SET = ("iat", "exp")
# Not reserved, yet refused: `nbf` would make tokens not yet valid, and our own API tells
# refresh tokens from access tokens by `type` (sessions/tokenauth.py).
REFUSED = ("nbf", "type")

MAX_BYTES = 8 * 1024
MAX_KEYS = 100
MAX_KEY_CHARS = 128
MAX_DEPTH = 10

DATA_PREFIX = "data."

# The claim paths a format may use (§12.6 "always listed", plus the three the default
# access token or the User object also carries): path → (JSON type, illustrative example).
CLAIM_PATHS: dict[str, tuple[str, Any]] = {
    "mode": ("string", "test"),
    "tenantId": ("string", "demo1234"),
    "userId": ("number", 5),
    "userUuid": ("string", "3c7d1f2a-8e4b-4d0a-9b6e-51f0c2a7d944"),
    "email": ("string", "jane@example.com"),
    "username": ("string", "jane"),
    "name": ("string", "Jane Doe"),
    "image": ("string", "https://example.com/jane.png"),
    "phoneNumber": ("string", "+15558675309"),
    "isEmailConfirmed": ("boolean", True),
    "isPhoneNumberConfirmed": ("boolean", False),
    "isConfirmed": ("boolean", True),
    "isMfaRequired": ("boolean", False),
    "confirmedEmailAt": ("string", "2024-05-15T23:04:50.787Z"),
    "confirmedPhoneNumberAt": ("string", None),
    "authorization": ("object", {"demo1234": {"roles": ["member"]}}),
    "authentication": ("object", {"firstFactor": {"channel": "email", "strategy": "password"}}),
    "sessionId": ("string", "7b794d68-dc94-4829-bd68-596c5d2693b5"),
    "createdAt": ("string", "2024-05-15T23:04:50.787Z"),
    "updatedAt": ("string", "2024-05-15T23:04:50.787Z"),
    "tenant.name": ("string", "Demo Workspace"),
    "data": ("object", {"nickname": "JD"}),
}

# What a token carries when no format is set, as a template (api-server §12.5): the
# default access-token claims, `iat`/`exp`/`iss` aside (always set by the server).
DEFAULT_TEMPLATE: dict[str, str] = {
    name: "{{" + name + "}}"
    for name in (
        "mode",
        "tenantId",
        "userId",
        "userUuid",
        "isEmailConfirmed",
        "isPhoneNumberConfirmed",
        "isConfirmed",
        "authorization",
        "authentication",
        "sessionId",
    )
}


def serialised_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON: how the 8 KiB limits are measured."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def is_known_path(path: str) -> bool:
    if path in CLAIM_PATHS:
        return True
    if not path.startswith(DATA_PREFIX):
        return False
    return all(segment for segment in path[len(DATA_PREFIX) :].split("."))


def _own_placeholder(name: str, value: Any) -> bool:
    """A reserved claim mapped to itself (`"userId": "{{userId}}"`) changes nothing."""
    if not isinstance(value, str):
        return False
    whole = _WHOLE.match(value)
    return whole is not None and whole.group(1) == name


def _strings(value: Any, where: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Every string of a template value with the field path that holds it."""
    if depth > MAX_DEPTH:
        raise BadRequest(f'"{where}" is nested more than {MAX_DEPTH} levels deep')
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, f"{where}[{index}]", depth + 1)


def paths_in(template: Mapping[str, Any]) -> set[str]:
    """Every claim path a (validated) template refers to."""
    found: set[str] = set()
    for key, value in template.items():
        for _where, text in _strings(value, key):
            found.update(match.group(1) for match in PLACEHOLDER.finditer(text))
    return found


def validate(template: Any, field: str = "format") -> dict[str, Any]:
    """The template as it will be stored, or BadRequest naming what is wrong."""
    if not isinstance(template, dict):
        raise BadRequest(f'"{field}" must be an object')
    if len(template) > MAX_KEYS:
        raise BadRequest(f'"{field}" must contain at most {MAX_KEYS} keys')
    if serialised_size(template) > MAX_BYTES:
        raise BadRequest(f'"{field}" must be at most {MAX_BYTES} bytes as JSON')
    for key, value in template.items():
        if not key or len(key) > MAX_KEY_CHARS:
            raise BadRequest(f'"{field}" keys must be 1-{MAX_KEY_CHARS} characters')
        if key in SERVER_SET:
            raise BadRequest(f"Reserved claim: {key}")
        if key in REFUSED:
            raise BadRequest(f'"{field}.{key}" is not allowed')
        if key in RESERVED and not _own_placeholder(key, value):
            raise BadRequest(f"Reserved claim: {key}")
        for where, text in _strings(value, f"{field}.{key}"):
            for match in PLACEHOLDER.finditer(text):
                if not is_known_path(match.group(1)):
                    raise BadRequest(f'"{where}" uses an unknown claim path: {match.group(1)}')
    return template


def lookup(path: str, values: Mapping[str, Any]) -> tuple[bool, Any]:
    """(found, value) of `path`: catalogue paths are keys of `values`; `data.a.b` walks
    into `values["data"]`."""
    if path in values:
        return True, values[path]
    if not path.startswith(DATA_PREFIX):
        return False, None
    current: Any = values.get("data")
    for segment in path[len(DATA_PREFIX) :].split("."):
        if not isinstance(current, dict) or segment not in current:
            return False, None
        current = current[segment]
    return True, current


def _as_text(found: bool, value: Any) -> str:
    if not found or value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _render(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole is not None:
            found, result = lookup(whole.group(1), values)
            return copy.deepcopy(result) if found else None
        if "{{" not in value:
            return value
        return PLACEHOLDER.sub(lambda m: _as_text(*lookup(m.group(1), values)), value)
    if isinstance(value, dict):
        return {key: _render(inner, values) for key, inner in value.items()}
    if isinstance(value, list):
        return [_render(inner, values) for inner in value]
    return copy.deepcopy(value)


def render(template: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The claims `template` gives for `values` (reserved claims are the caller's job)."""
    return {key: _render(value, values) for key, value in template.items()}
