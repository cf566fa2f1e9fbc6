"""Webhook events on EventBridge (concepts §5): one per user/tenant create, update and
delete, with Detail = {action, model, mode, record} and never a secret in the record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_users_support import (
    SECRET_FIELDS,
    Tenant,
    assert_public_user,
    create_user,
    email,
    events_for,
    new_tenant,
    wait_for,
)


@pytest.fixture
def tenant(api: Any, workspace: Any) -> Tenant:
    return new_tenant(api, workspace.keys["test"]["admin"])


def only(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(events) == 1, events
    return events[0]


def test_user_lifecycle_events(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin, password="a strong password 1", roles=["member"])
    created = only(wait_for(lambda: events_for(api, "user.create", userUuid=user["userUuid"])))
    assert created["source"]
    assert created["detailType"] == "user.create"
    detail = created["detail"]
    assert (detail["action"], detail["model"], detail["mode"]) == ("create", "user", "test")
    assert detail["tenantId"] == tenant.tenant_id
    assert detail["webhookId"] and detail["occurredAt"].endswith("Z")
    assert detail["record"] == user
    assert_public_user(detail["record"])

    updated_user = api(
        "PUT",
        f"/v0/users/{user['userId']}",
        key=tenant.admin,
        json={"name": "Renamed", "password": "another password 2"},
    ).json()
    updated = only(wait_for(lambda: events_for(api, "user.update", userUuid=user["userUuid"])))
    assert updated["detail"]["action"] == "update"
    assert updated["detail"]["record"] == updated_user

    deleted_user = api("DELETE", f"/v0/users/{user['userId']}", key=tenant.admin).json()
    deleted = only(wait_for(lambda: events_for(api, "user.delete", userUuid=user["userUuid"])))
    assert deleted["detail"]["action"] == "delete"
    assert deleted["detail"]["record"] == deleted_user

    for event in (created, updated, deleted):
        text = json.dumps(event)
        assert "argon2" not in text and "another password" not in text
        for name in SECRET_FIELDS:
            assert name not in event["detail"]["record"]


def test_failed_writes_announce_nothing(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    duplicate = api(
        "POST", "/v0/users", key=tenant.admin, json={"email": user["email"], "name": "Dup"}
    )
    assert duplicate.status_code == 400
    bad_update = api(
        "PUT", f"/v0/users/{user['userId']}", key=tenant.admin, json={"roles": ["admin"]}
    )
    assert bad_update.status_code == 400
    creates = events_for(api, "user.create", email=user["email"])
    assert len(creates) == 1
    assert not events_for(api, "user.update", userUuid=user["userUuid"])


def test_live_events_carry_the_live_mode(api: Any, workspace: Any) -> None:
    live = new_tenant(api, workspace.keys["live"]["admin"], mode="live")
    user = create_user(api, live.admin)
    event = only(wait_for(lambda: events_for(api, "user.create", userUuid=user["userUuid"])))
    assert event["detail"]["mode"] == "live"
    assert event["detail"]["record"]["mode"] == "live"


def test_invite_and_create_or_update_fire_events(api: Any, tenant: Tenant) -> None:
    invited = api("POST", "/v0/users/invite", key=tenant.admin, json={"email": email()}).json()
    record = only(wait_for(lambda: events_for(api, "user.create", userUuid=invited["userUuid"])))
    assert "link" not in record["detail"]["record"]
    api(
        "POST",
        "/v0/users/createOrUpdate",
        key=tenant.admin,
        json={"userUuid": invited["userUuid"], "name": "Via createOrUpdate"},
    )
    update = only(wait_for(lambda: events_for(api, "user.update", userUuid=invited["userUuid"])))
    assert update["detail"]["record"]["name"] == "Via createOrUpdate"


def test_tenant_lifecycle_events(api: Any, tenant: Tenant) -> None:
    made = api("POST", "/v0/tenants", key=tenant.admin, json={"name": "Evented", "data": {"k": 1}})
    assert made.status_code == 200, made.text
    child = made.json()
    created = only(wait_for(lambda: events_for(api, "tenant.create", tenantId=child["tenantId"])))
    detail = created["detail"]
    assert (detail["action"], detail["model"], detail["mode"]) == ("create", "tenant", "test")
    assert detail["record"]["name"] == "Evented"
    assert [r["name"] for r in detail["record"]["roles"]][:2] == ["subscriber", "viewer"]
    assert detail["record"]["parent"]["tenantId"] == tenant.tenant_id
    assert detail["ancestorTenantIds"][0] == tenant.tenant_id

    renamed = api(
        "PUT",
        f"/v0/tenants/{child['tenantId']}",
        key=tenant.admin,
        json={"name": "Renamed", "data": {"j": 2}},
    ).json()
    updated = only(wait_for(lambda: events_for(api, "tenant.update", tenantId=child["tenantId"])))
    assert updated["detail"]["record"]["name"] == "Renamed"
    assert updated["detail"]["record"]["data"] == {"k": 1, "j": 2} == renamed["data"]

    assert api("DELETE", f"/v0/tenants/{child['tenantId']}", key=tenant.admin).status_code == 200
    deleted = only(wait_for(lambda: events_for(api, "tenant.delete", tenantId=child["tenantId"])))
    assert deleted["detail"]["record"]["name"] == "Renamed"


def test_mark_active_fires_no_event(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    api("POST", f"/v0/users/{user['userId']}/active", key=tenant.admin)
    api("PUT", f"/v0/users/{user['userId']}/active", key=tenant.admin)
    assert not events_for(api, "user.update", userUuid=user["userUuid"])
