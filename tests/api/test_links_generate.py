"""Generate link credentials (§13.1): uuid + token per type, durations, and the errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from test_users_support import Tenant, assert_error, create_user, emails_to, new_tenant

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DURATION_MESSAGE = '"options.duration" must be between 10 seconds and 1 week'


@pytest.fixture
def tenant(api: Any, workspace: Any) -> Tenant:
    return new_tenant(api, workspace.keys["test"]["admin"])


def expires_in(body: dict[str, Any]) -> float:
    expires = datetime.fromisoformat(body["result"]["expiresAt"].replace("Z", "+00:00"))
    return (expires - datetime.now(UTC)).total_seconds()


def test_generate_login_link_by_email(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    response = api(
        "POST", "/v0/auth/link/generate", key=tenant.admin, json={"email": user["email"].upper()}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "OK"
    assert body["uuid"] == user["userUuid"] == body["result"]["uuid"]
    assert UUID.match(body["token"]) and body["token"] == body["result"]["token"]
    assert body["result"]["type"] == "login"
    assert body["result"]["userId"] == user["userId"]
    assert body["result"]["email"] == user["email"]
    assert 3590 < expires_in(body) <= 3600


@pytest.mark.parametrize(
    ("options", "link_type", "seconds"),
    [
        ({"type": "welcome"}, "welcome", 3 * 86_400),
        ({"type": "verify"}, "verify", 3 * 86_400),
        ({"type": "reset"}, "reset", 3600),
        ({"type": "login", "duration": "30 seconds"}, "login", 30),
        ({"duration": "1 week"}, "login", 7 * 86_400),
        ({"type": "reset", "duration": "10 seconds"}, "reset", 10),
    ],
)
def test_types_and_durations(
    api: Any, tenant: Tenant, options: dict[str, Any], link_type: str, seconds: int
) -> None:
    user = create_user(api, tenant.admin)
    response = api(
        "POST",
        "/v0/auth/link/generate",
        key=tenant.admin,
        json={"userId": user["userId"], "options": options},
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["type"] == link_type
    assert seconds - 10 < expires_in(response.json()) <= seconds


def test_by_uuid_at_tenant_level_and_each_call_is_a_new_pair(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    path = f"/v0/tenants/{tenant.tenant_id}/auth/link/generate"
    first = api("POST", path, key=tenant.admin, json={"userUuid": user["userUuid"]})
    second = api("POST", path, key=tenant.admin, json={"userUuid": user["userUuid"]})
    assert first.status_code == second.status_code == 200
    assert first.json()["token"] != second.json()["token"]
    assert first.json()["uuid"] == second.json()["uuid"] == user["userUuid"]


def test_live_generation_sends_no_email(api: Any, workspace: Any) -> None:
    live = new_tenant(api, workspace.keys["live"]["admin"], mode="live")
    user = create_user(api, live.admin)
    response = api("POST", "/v0/auth/link/generate", key=live.admin, json={"email": user["email"]})
    assert response.status_code == 200, response.text
    assert emails_to(api, user["email"]) == []
    assert (
        api("GET", f"/v0/users/{user['userId']}", key=live.admin).json()["lastMessagedAt"] is None
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, '"email" is required'),
        ({"options": {"type": "login"}}, 400, '"email" is required'),
        ({"email": "nobody@example.com"}, 404, "User not found"),
        ({"userId": 999}, 404, "User not found"),
        ({"userUuid": "00000000-0000-4000-8000-000000000000"}, 404, "User not found"),
        ({"userUuid": "not-a-uuid"}, 400, None),
        ({"userId": "1"}, 400, '"userId" must be an integer'),
        (
            {"email": "x@example.com", "options": {"type": "invite"}},
            400,
            '"options.type" must be one of [login, welcome, verify, reset]',
        ),
        ({"email": "x@example.com", "options": {"duration": "5 seconds"}}, 400, DURATION_MESSAGE),
        (
            {"email": "x@example.com", "options": {"duration": "2 fortnights"}},
            400,
            DURATION_MESSAGE,
        ),
        ({"email": "x@example.com", "extra": 1}, 400, '"extra" is not allowed'),
    ],
)
def test_generation_errors(
    api: Any, tenant: Tenant, body: dict[str, Any], status: int, message: str | None
) -> None:
    create_user(api, tenant.admin)
    assert_error(
        api("POST", "/v0/auth/link/generate", key=tenant.admin, json=body), status, message
    )


def test_locked_users_get_no_link(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin, locked=True)
    assert_error(
        api("POST", "/v0/auth/link/generate", key=tenant.admin, json={"email": user["email"]}),
        400,
        "User is locked",
    )


def test_users_of_other_tenants_are_not_found(api: Any, workspace: Any, tenant: Tenant) -> None:
    other = new_tenant(api, workspace.keys["test"]["admin"])
    theirs = create_user(api, other.admin)
    assert_error(
        api(
            "POST",
            "/v0/auth/link/generate",
            key=tenant.admin,
            json={"userUuid": theirs["userUuid"]},
        ),
        404,
        "User not found",
    )
    assert_error(
        api(
            "POST",
            f"/v0/tenants/{other.tenant_id}/auth/link/generate",
            key=tenant.admin,
            json={"email": theirs["email"]},
        ),
        403,
        "Forbidden",
    )


def test_generation_needs_an_admin_credential(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    body = {"email": user["email"]}
    assert_error(api("POST", "/v0/auth/link/generate", json=body), 401, "Missing authentication")
    assert_error(
        api("POST", "/v0/auth/link/generate", key=tenant.readonly, json=body), 403, "Forbidden"
    )
