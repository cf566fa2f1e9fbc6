"""Roles over HTTP (§9): definitions, set user roles, invite to a role, delete, and the
isolation of one tenant's roles from another's."""

from __future__ import annotations

from typing import Any

import pytest
from test_users_support import (
    Tenant,
    assert_error,
    create_user,
    email,
    events_for,
    new_tenant,
    wait_for,
)

# The spec's default roles in their order (api-server §1.6), written out rather than
# imported from the core, so that the test holds the core to the spec, not to itself.
# fmt: off
DEFAULTS = [
    "subscriber", "viewer", "contributor", "support", "member",
    "editor", "author", "admin", "owner",
]
# fmt: on


@pytest.fixture
def tenant(api: Any, workspace: Any) -> Tenant:
    return new_tenant(api, workspace.keys["test"]["admin"])


def child(api: Any, parent: Tenant, name: str = "Child") -> str:
    response = api("POST", "/v0/tenants", key=parent.admin, json={"name": name})
    assert response.status_code == 200, response.text
    return str(response.json()["tenantId"])


def roles_of(user: dict[str, Any]) -> dict[str, list[str]]:
    return {tid: entry["roles"] for tid, entry in user["authorization"].items()}


# ------------------------------------------------------------------------- definitions


def test_every_tenant_starts_with_the_default_roles(api: Any, tenant: Tenant) -> None:
    for path in ("/v0/roles", f"/v0/tenants/{tenant.tenant_id}/roles"):
        response = api("GET", path, key=tenant.readonly)
        assert response.status_code == 200, response.text
        body = response.json()
        assert [r["name"] for r in body["results"]] == DEFAULTS
        assert (body["totalCount"], body["totalPages"]) == (9, 1)
        assert all(r["tenantId"] == tenant.tenant_id for r in body["results"])


def test_create_role_keeps_case_and_creation_order(api: Any, tenant: Tenant) -> None:
    first = api("POST", "/v0/roles", key=tenant.admin, json={"name": "Administrator"})
    assert first.status_code == 200, first.text
    assert first.json()["name"] == "Administrator"
    assert first.json()["tenantId"] == tenant.tenant_id
    assert first.json()["createdAt"].endswith("Z")
    second = api(
        "POST",
        f"/v0/tenants/{tenant.tenant_id}/roles",
        key=tenant.admin,
        json={"name": "administrator"},
    )
    assert second.status_code == 200, second.text
    third = api("POST", "/v0/roles", key=tenant.admin, json={"name": "iot remote 2"})
    assert third.status_code == 200
    names = [r["name"] for r in api("GET", "/v0/roles", key=tenant.admin).json()["results"]]
    assert names == [*DEFAULTS, "Administrator", "administrator", "iot remote 2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, '"name" must contain between 1 and 100 characters'),
        ({"name": "x" * 101}, '"name" must contain between 1 and 100 characters'),
        ({"name": " lead"}, '"name" must not start or end with whitespace'),
        ({"name": "lead "}, '"name" must not start or end with whitespace'),
        ({"name": "a:b"}, '"name" must not contain ":"'),
        ({"name": "tab\tname"}, '"name" must not contain control characters'),
        ({"name": 5}, '"name" must be a string'),
        ({}, '"name" is required'),
        ({"name": "ok", "color": "red"}, '"color" is not allowed'),
        ({"name": "admin"}, "Role already exists"),
    ],
)
def test_create_role_errors(api: Any, tenant: Tenant, body: dict[str, Any], message: str) -> None:
    assert_error(api("POST", "/v0/roles", key=tenant.admin, json=body), 400, message)
    assert len(api("GET", "/v0/roles", key=tenant.admin).json()["results"]) == 9


def test_role_writes_need_admin(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    calls = [
        ("POST", "/v0/roles", {"name": "x"}),
        ("DELETE", "/v0/roles/admin", None),
        ("DELETE", "/v0/roles", {"name": "admin"}),
        ("POST", "/v0/roles/invite", {"email": email(), "roles": ["admin"]}),
        ("PUT", f"/v0/users/{user['userId']}/roles", {"roles": ["admin"]}),
        ("POST", f"/v0/users/{user['userId']}/roles", {"roles": ["admin"]}),
        ("PUT", f"/v0/tenants/{tenant.tenant_id}/users/{user['userId']}/roles", {"roles": []}),
    ]
    for method, path, body in calls:
        assert_error(api(method, path, key=tenant.readonly, json=body), 403, "Forbidden")
        assert_error(api(method, path, json=body), 401, "Missing authentication")


# ------------------------------------------------------------------------- set roles


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_set_roles_replaces_collapses_and_clears(api: Any, tenant: Tenant, method: str) -> None:
    user = create_user(api, tenant.admin, roles=["viewer"])
    path = f"/v0/users/{user['userId']}/roles"
    response = api(method, path, key=tenant.admin, json={"roles": ["admin", "editor", "admin"]})
    assert response.status_code == 200, response.text
    assert roles_of(response.json()) == {tenant.tenant_id: ["admin", "editor"]}
    assert response.json()["authorization"][tenant.tenant_id]["name"] == tenant.name
    cleared = api(method, path, key=tenant.admin, json={"roles": []})
    assert cleared.json()["authorization"] == {}
    assert api("GET", path.removesuffix("/roles"), key=tenant.admin).json()["authorization"] == {}


def test_set_roles_errors(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin, roles=["viewer"])
    path = f"/v0/users/{user['userId']}/roles"
    assert_error(
        api("PUT", path, key=tenant.admin, json={"roles": ["viewer", "ghost"]}),
        400,
        'Role "ghost" does not exist',
    )
    assert_error(
        api("PUT", path, key=tenant.admin, json={"roles": "admin"}), 400, '"roles" must be an array'
    )
    assert_error(api("PUT", path, key=tenant.admin, json={}), 400, '"roles" is required')
    assert_error(
        api("PUT", path, key=tenant.admin, json={"roles": [1]}), 400, '"roles[0]" must be a string'
    )
    assert_error(
        api("PUT", "/v0/users/9999/roles", key=tenant.admin, json={"roles": []}),
        404,
        "User not found",
    )
    assert_error(
        api("PUT", "/v0/users/not-a-user/roles", key=tenant.admin, json={"roles": []}), 404
    )
    assert roles_of(api("GET", f"/v0/users/{user['userId']}", key=tenant.admin).json()) == {
        tenant.tenant_id: ["viewer"]
    }


def test_roles_in_one_tenant_never_touch_another(api: Any, tenant: Tenant) -> None:
    team_a, team_b = child(api, tenant, "Team A"), child(api, tenant, "Team B")
    user = create_user(api, tenant.admin, roles=["member"])
    uid = user["userId"]
    set_a = api(
        "PUT",
        f"/v0/tenants/{team_a}/users/{uid}/roles",
        key=tenant.admin,
        json={"roles": ["admin"]},
    )
    assert set_a.status_code == 200, set_a.text
    set_b = api(
        "PUT",
        f"/v0/tenants/{team_b}/users/{uid}/roles",
        key=tenant.admin,
        json={"roles": ["viewer", "editor"]},
    )
    assert roles_of(set_b.json()) == {
        tenant.tenant_id: ["member"],
        team_a: ["admin"],
        team_b: ["viewer", "editor"],
    }
    assert set_b.json()["authorization"][team_a]["name"] == "Team A"
    cleared = api(
        "PUT", f"/v0/tenants/{team_a}/users/{uid}/roles", key=tenant.admin, json={"roles": []}
    )
    assert roles_of(cleared.json()) == {tenant.tenant_id: ["member"], team_b: ["viewer", "editor"]}
    home = api("PUT", f"/v0/users/{uid}/roles", key=tenant.admin, json={"roles": ["owner"]})
    assert roles_of(home.json()) == {tenant.tenant_id: ["owner"], team_b: ["viewer", "editor"]}
    # A role defined only in Team A is unknown in Team B.
    assert (
        api(
            "POST", f"/v0/tenants/{team_a}/roles", key=tenant.admin, json={"name": "pilot"}
        ).status_code
        == 200
    )
    assert_error(
        api(
            "PUT",
            f"/v0/tenants/{team_b}/users/{uid}/roles",
            key=tenant.admin,
            json={"roles": ["pilot"]},
        ),
        400,
        'Role "pilot" does not exist',
    )


def test_tenant_level_set_roles_finds_users_of_the_addressed_tenant_too(
    api: Any, tenant: Tenant
) -> None:
    team = child(api, tenant)
    owned = api(
        "POST", f"/v0/tenants/{team}/users", key=tenant.admin, json={"email": email()}
    ).json()
    response = api(
        "POST",
        f"/v0/tenants/{team}/users/{owned['userUuid']}/roles",
        key=tenant.admin,
        json={"roles": ["support"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["tenantId"] == team
    assert roles_of(response.json()) == {team: ["support"]}


def test_tenant_level_set_roles_is_scoped(api: Any, workspace: Any, tenant: Tenant) -> None:
    stranger = new_tenant(api, workspace.keys["test"]["admin"])
    user = create_user(api, tenant.admin)
    path = f"/v0/tenants/{stranger.tenant_id}/users/{user['userId']}/roles"
    assert_error(api("PUT", path, key=tenant.admin, json={"roles": ["admin"]}), 403, "Forbidden")


def test_role_changes_fire_user_update(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    api("PUT", f"/v0/users/{user['userId']}/roles", key=tenant.admin, json={"roles": ["author"]})
    events = wait_for(lambda: events_for(api, "user.update", userUuid=user["userUuid"]))
    assert events
    detail = events[-1]["detail"]
    assert (detail["action"], detail["model"], detail["mode"]) == ("update", "user", "test")
    assert detail["record"]["authorization"][tenant.tenant_id]["roles"] == ["author"]
    # Setting the same roles again changes nothing and announces nothing.
    count = len(events)
    api("PUT", f"/v0/users/{user['userId']}/roles", key=tenant.admin, json={"roles": ["author"]})
    assert len(events_for(api, "user.update", userUuid=user["userUuid"])) == count


# ------------------------------------------------------------------------- invite to a role


def test_invite_to_role_creates_the_user_with_roles(api: Any, tenant: Tenant) -> None:
    address = email("role")
    response = api(
        "POST",
        "/v0/roles/invite",
        key=tenant.admin,
        json={"email": address, "roles": ["editor", "editor"], "name": "Ed"},
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["email"] == address and user["name"] == "Ed"
    assert roles_of(user) == {tenant.tenant_id: ["editor"]}
    assert "type=welcome" in user["link"]


def test_invite_to_role_adds_to_existing_roles(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin, roles=["viewer"])
    response = api(
        "POST",
        "/v0/roles/invite",
        key=tenant.admin,
        json={"email": user["email"], "roles": ["admin", "viewer"], "options": {"type": "reset"}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["userId"] == user["userId"]
    assert roles_of(response.json()) == {tenant.tenant_id: ["viewer", "admin"]}
    assert "/reset?" in response.json()["link"] and "type=invite" in response.json()["link"]


def test_tenant_level_invite_creates_the_user_in_the_home_tenant(api: Any, tenant: Tenant) -> None:
    team = child(api, tenant, "Invite Team")
    response = api(
        "POST",
        f"/v0/tenants/{team}/roles/invite",
        key=tenant.admin,
        json={"email": email(), "roles": ["member"]},
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["tenantId"] == tenant.tenant_id
    assert roles_of(user) == {team: ["member"]}


def test_live_invite_to_a_tenant_role_emails_with_the_tenant_name(api: Any, workspace: Any) -> None:
    live = new_tenant(api, workspace.keys["live"]["admin"], mode="live")
    team = child(api, live, "Live Team")
    address = email("liverole")
    response = api(
        "POST",
        f"/v0/tenants/{team}/roles/invite",
        key=live.admin,
        json={"email": address, "roles": ["member"]},
    )
    assert response.status_code == 200, response.text
    sent = wait_for(lambda: api("GET", "/_local/outbox", params={"to": address}).json())
    assert len(sent) == 1
    assert "Live Team" in sent[0]["text"]
    assert f"uuid={response.json()['userUuid']}" in sent[0]["text"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "x@example.com", "roles": []}, '"roles" must contain at least 1 items'),
        ({"email": "x@example.com"}, '"roles" is required'),
        ({"email": "x@example.com", "roles": ["ghost"]}, 'Role "ghost" does not exist'),
        ({"roles": ["admin"]}, '"email" is required'),
        (
            {"email": "x@example.com", "roles": ["admin"], "options": {"duration": "2 weeks"}},
            '"options.duration" must be between 10 seconds and 1 week',
        ),
    ],
)
def test_invite_to_role_errors(
    api: Any, tenant: Tenant, body: dict[str, Any], message: str
) -> None:
    assert_error(api("POST", "/v0/roles/invite", key=tenant.admin, json=body), 400, message)
    assert api("POST", "/v0/users/find", key=tenant.admin, json={}).json()["totalCount"] == 0


# ------------------------------------------------------------------------- delete


def test_delete_role_by_path_strips_it_from_holders(api: Any, tenant: Tenant) -> None:
    assert (
        api("POST", "/v0/roles", key=tenant.admin, json={"name": "Night Shift"}).status_code == 200
    )
    holders = [create_user(api, tenant.admin, roles=["Night Shift", "viewer"]) for _ in range(3)]
    bystander = create_user(api, tenant.admin, roles=["viewer"])
    response = api("DELETE", "/v0/roles/Night%20Shift", key=tenant.admin)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "message": "OK",
        "result": {"name": "Night Shift", "usersUpdated": 3},
    }
    for holder in holders:
        after = api("GET", f"/v0/users/{holder['userId']}", key=tenant.admin).json()
        assert roles_of(after) == {tenant.tenant_id: ["viewer"]}
        assert events_for(api, "user.update", userUuid=holder["userUuid"])
    assert not events_for(api, "user.update", userUuid=bystander["userUuid"])
    names = [r["name"] for r in api("GET", "/v0/roles", key=tenant.admin).json()["results"]]
    assert "Night Shift" not in names
    assert_error(api("DELETE", "/v0/roles/Night%20Shift", key=tenant.admin), 404, "Role not found")


def test_delete_role_by_body_and_defaults_can_go(api: Any, tenant: Tenant) -> None:
    holder = create_user(api, tenant.admin, roles=["owner"])
    response = api("DELETE", "/v0/roles", key=tenant.admin, json={"name": "owner"})
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {"name": "owner", "usersUpdated": 1}
    assert (
        api("GET", f"/v0/users/{holder['userId']}", key=tenant.admin).json()["authorization"] == {}
    )
    assert_error(
        api("DELETE", "/v0/roles", key=tenant.admin, json={"name": "owner"}), 404, "Role not found"
    )
    assert_error(api("DELETE", "/v0/roles", key=tenant.admin, json={}), 400, '"name" is required')


def test_tenant_level_delete_touches_only_that_tenant(api: Any, tenant: Tenant) -> None:
    team_a, team_b = child(api, tenant, "A"), child(api, tenant, "B")
    user = create_user(api, tenant.admin, roles=["editor"])
    for team in (team_a, team_b):
        api(
            "PUT",
            f"/v0/tenants/{team}/users/{user['userId']}/roles",
            key=tenant.admin,
            json={"roles": ["editor"]},
        )
    response = api("DELETE", f"/v0/tenants/{team_a}/roles/editor", key=tenant.admin)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["usersUpdated"] == 1
    after = api("GET", f"/v0/users/{user['userId']}", key=tenant.admin).json()
    assert roles_of(after) == {tenant.tenant_id: ["editor"], team_b: ["editor"]}
    body_delete = api(
        "DELETE", f"/v0/tenants/{team_b}/roles", key=tenant.admin, json={"name": "editor"}
    )
    assert body_delete.json()["result"]["usersUpdated"] == 1
    assert_error(
        api("DELETE", f"/v0/tenants/{team_a}/roles/editor", key=tenant.admin), 404, "Role not found"
    )


def test_deleting_a_tenant_removes_its_role_assignments(api: Any, tenant: Tenant) -> None:
    team = child(api, tenant, "Doomed")
    user = create_user(api, tenant.admin, roles=["member"])
    api(
        "PUT",
        f"/v0/tenants/{team}/users/{user['userId']}/roles",
        key=tenant.admin,
        json={"roles": ["admin"]},
    )
    owned = api(
        "POST", f"/v0/tenants/{team}/users", key=tenant.admin, json={"email": email()}
    ).json()
    assert api("DELETE", f"/v0/tenants/{team}", key=tenant.admin).status_code == 200

    def cleaned() -> bool:
        after = api("GET", f"/v0/users/{user['userId']}", key=tenant.admin).json()
        return roles_of(after) == {tenant.tenant_id: ["member"]}

    assert wait_for(cleaned)
    assert wait_for(lambda: events_for(api, "user.delete", userUuid=owned["userUuid"]))
