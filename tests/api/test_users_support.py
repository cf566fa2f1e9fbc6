"""Helpers shared by the user, role, link and event API tests (no tests of its own).

Every test works in its own child tenant with its own admin and readonly keys, so
userIds start at 1, searches see only the test's users, and tests stay independent
under `pytest -n auto`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    mode: str
    admin: str
    readonly: str
    name: str


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def email(prefix: str = "user") -> str:
    return f"{unique(prefix)}@example.com"


def new_tenant(api: Any, parent_key: str, mode: str = "test", name: str | None = None) -> Tenant:
    """A child tenant of the key's home tenant, with its own admin and readonly keys."""
    name = name or unique("Tenant ")
    created = api("POST", "/v0/tenants", key=parent_key, json={"name": name})
    assert created.status_code == 200, created.text
    tenant_id = created.json()["tenantId"]
    keys = {}
    for key_type in ("admin", "readonly"):
        made = api(
            "POST", "/v0/keys", key=parent_key, json={"type": key_type, "tenantId": tenant_id}
        )
        assert made.status_code == 200, made.text
        keys[key_type] = made.json()["key"]
    return Tenant(tenant_id, mode, keys["admin"], keys["readonly"], name)


def create_user(api: Any, key: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("email", email())
    response = api("POST", "/v0/users", key=key, json=fields)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> None:
    """The §1.1 envelope with the expected status (and message, when given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert body["error"]["type"] in ("bad_request_error", "rate_limit_error")
    if message is not None:
        assert body["message"] == message, body["message"]


def one_filter(attr: str, ftype: str, comparison: str, value: Any = None, **extra: Any) -> dict:
    flt: dict[str, Any] = {"attr": attr, "type": ftype, "comparison": comparison}
    if value is not None:
        flt["value"] = value
    return {
        "filters": {
            "conjunction": "and",
            "filterGroups": [{"conjunction": "and", "filters": [flt]}],
        },
        **extra,
    }


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `check()` returns something truthy (outbox sends happen after commit)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def events_for(api: Any, detail_type: str, **match: Any) -> list[dict[str, Any]]:
    """Bus events of a type whose `detail.record` has every `match` key/value."""
    response = api("GET", "/_local/events", params={"detailType": detail_type})
    assert response.status_code == 200, response.text
    found = []
    for event in response.json():
        record = (event.get("detail") or {}).get("record") or {}
        if all(record.get(k) == v for k, v in match.items()):
            found.append(event)
    return found


def emails_to(api: Any, address: str) -> list[dict[str, Any]]:
    response = api("GET", "/_local/outbox", params={"to": address, "channel": "email"})
    assert response.status_code == 200, response.text
    return list(response.json())


SECRET_FIELDS = (
    "password",
    "passwordHash",
    "passwordChangedAt",
    "totpSecret",
    "backupCodes",
    "token",
    "refreshToken",
    "version",
    "gsi1pk",
    "gsi2pk",
    "pk",
    "sk",
)


def assert_public_user(user: dict[str, Any]) -> None:
    """Every §1.3 field present, nothing secret or internal."""
    expected = {
        "mode",
        "tenantId",
        "userId",
        "userUuid",
        "uuid",
        "email",
        "username",
        "name",
        "image",
        "phoneNumber",
        "data",
        "locked",
        "isMfaRequired",
        "preferredFirstFactor",
        "preferredSecondFactor",
        "isEmailConfirmed",
        "isPhoneNumberConfirmed",
        "isConfirmed",
        "confirmedEmailAt",
        "confirmedPhoneNumberAt",
        "lastActiveAt",
        "lastMessagedAt",
        "createdAt",
        "updatedAt",
        "tenant",
        "authorization",
        "authentication",
    }
    assert expected <= set(user), expected - set(user)
    for name in SECRET_FIELDS:
        assert name not in user
    assert user["uuid"] == user["userUuid"]
    assert user["isConfirmed"] == user["isEmailConfirmed"]
    assert set(user["tenant"]) == {
        "tenantId",
        "aliasId",
        "name",
        "image",
        "loginRedirectPath",
        "logoutRedirectPath",
    }
