"""Users over HTTP: create, read, update, delete, createOrUpdate, mark active (§7.1-7.8),
at account level and tenant level, with every error row of the spec."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
from test_users_support import (
    Tenant,
    assert_error,
    assert_public_user,
    create_user,
    email,
    events_for,
    new_tenant,
    one_filter,
    unique,
)


@pytest.fixture
def tenant(api: Any, workspace: Any) -> Tenant:
    return new_tenant(api, workspace.keys["test"]["admin"])


# ------------------------------------------------------------------------- create


def test_create_returns_the_full_user_object(api: Any, tenant: Tenant) -> None:
    address = email("Jane")
    response = api(
        "POST",
        "/v0/users",
        key=tenant.admin,
        json={
            "email": address.upper(),
            "username": unique("jane"),
            "name": "Jane Doe",
            "image": "https://example.com/jane.png",
            "phoneNumber": "+15558675309",
            "data": {"plan": "pro", "dropped": None},
            "password": "correct horse battery",
            "isMfaRequired": True,
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    user = response.json()
    assert_public_user(user)
    assert user["mode"] == "test"
    assert user["tenantId"] == tenant.tenant_id
    assert user["userId"] == 1
    assert user["email"] == address.lower()
    assert user["name"] == "Jane Doe"
    assert user["data"] == {"plan": "pro"}
    assert user["phoneNumber"] == "+15558675309"
    assert user["isMfaRequired"] is True
    assert user["locked"] is False
    assert user["isEmailConfirmed"] is False
    assert user["confirmedEmailAt"] is None
    assert user["authorization"] == {}
    assert user["tenant"]["tenantId"] == tenant.tenant_id
    assert user["tenant"]["name"] == tenant.name
    assert user["createdAt"].endswith("Z") and len(user["createdAt"]) == 24
    factors = user["authentication"]["firstFactors"]
    assert {"channel": "email", "strategy": "password"} in factors


def test_user_ids_are_sequential_per_tenant_and_uuids_are_v4(api: Any, tenant: Tenant) -> None:
    first = create_user(api, tenant.admin)
    second = create_user(api, tenant.admin)
    assert (first["userId"], second["userId"]) == (1, 2)
    assert first["userUuid"] != second["userUuid"]
    assert first["userUuid"][14] == "4"


def test_create_with_roles_and_confirmed_email(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin, roles=["admin", "editor", "admin"], isEmailConfirmed=True)
    assert user["authorization"] == {
        tenant.tenant_id: {
            "tenantId": tenant.tenant_id,
            "name": tenant.name,
            "roles": ["admin", "editor"],
        }
    }
    assert user["isEmailConfirmed"] is True
    assert user["confirmedEmailAt"] is not None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, '"email" must be a valid email'),
        ({"email": "a@b"}, '"email" must be a valid email'),
        ({"email": 42}, '"email" must be a string'),
        ({"email": "x" * 250 + "@example.com"}, '"email" must be a valid email'),
        ({"username": "has space"}, '"username" must be 1-100 letters, digits or . _ @ + -'),
        ({"username": ""}, '"username" must be 1-100 letters, digits or . _ @ + -'),
        (
            {"phoneNumber": "5558675309"},
            '"phoneNumber" must be an E.164 phone number such as +15558675309',
        ),
        (
            {"image": "ftp://example.com/x.png"},
            '"image" must be an absolute http(s) URL of at most 2048 characters',
        ),
        ({"name": "n" * 201}, '"name" must contain at most 200 characters'),
        ({"data": []}, '"data" must be an object'),
        ({"locked": "yes"}, '"locked" must be a boolean'),
        ({"roles": "admin"}, '"roles" must be an array'),
        ({"foo": 1}, '"foo" is not allowed'),
        ({"userId": 3}, '"userId" is not allowed'),
        ({"name": "No identifier"}, '"email" is required'),
        ({"password": "short1"}, None),
        ({"password": "p" * 129}, '"password" must contain at most 128 characters'),
        ({"data": {"blob": "x" * 70_000}}, '"data" must be at most 65536 bytes'),
        ({"roles": ["nonexistent"]}, 'Role "nonexistent" does not exist'),
    ],
)
def test_create_validation_errors(
    api: Any, tenant: Tenant, fields: dict[str, Any], message: str | None
) -> None:
    body = dict(fields)
    if "email" not in body and message != '"email" is required':
        body["email"] = email()
    response = api("POST", "/v0/users", key=tenant.admin, json=body)
    assert_error(response, 400, message)
    listing = api("POST", "/v0/users/find", key=tenant.admin, json={}).json()
    assert listing["totalCount"] == 0  # nothing half-written


def test_create_accepts_username_only_or_phone_only_users(api: Any, tenant: Tenant) -> None:
    by_name = api("POST", "/v0/users", key=tenant.admin, json={"username": unique("solo")})
    assert by_name.status_code == 200, by_name.text
    assert by_name.json()["email"] is None
    by_phone = api("POST", "/v0/users", key=tenant.admin, json={"phoneNumber": "+4915112345678"})
    assert by_phone.status_code == 200, by_phone.text


def test_malformed_json_is_a_400(api: Any, tenant: Tenant) -> None:
    response = api(
        "POST",
        "/v0/users",
        key=tenant.admin,
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400)


def test_test_mode_reserved_password_is_accepted(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin, password="test")
    assert {"channel": "email", "strategy": "password"} in user["authentication"]["firstFactors"]


@pytest.mark.parametrize(
    ("field", "first", "second", "message"),
    [
        ("email", "Dup@Example.com", "dup@example.COM", "Email already exists"),
        ("username", "DupName", "dupname", "Username already exists"),
        ("phoneNumber", "+15550001111", "+15550001111", "Phone number already exists"),
    ],
)
def test_duplicates_are_400_case_insensitively(
    api: Any, tenant: Tenant, field: str, first: str, second: str, message: str
) -> None:
    create_user(
        api,
        tenant.admin,
        **{field: first, "email": email()} if field != "email" else {field: first},
    )
    body = {field: second} if field == "email" else {field: second, "email": email()}
    assert_error(api("POST", "/v0/users", key=tenant.admin, json=body), 400, message)
    assert api("POST", "/v0/users/find", key=tenant.admin, json={}).json()["totalCount"] == 1


def test_same_email_in_another_tenant_or_mode_is_fine(
    api: Any, workspace: Any, tenant: Tenant
) -> None:
    address = email()
    create_user(api, tenant.admin, email=address)
    other = new_tenant(api, workspace.keys["test"]["admin"])
    create_user(api, other.admin, email=address)
    live = new_tenant(api, workspace.keys["live"]["admin"], mode="live")
    created = create_user(api, live.admin, email=address)
    assert created["mode"] == "live"


def test_twelve_concurrent_creates_with_one_email_make_exactly_one_user(
    base_url: str, api: Any, tenant: Tenant
) -> None:
    import httpx

    address = email("race")

    def attempt(index: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            return http.post(
                "/v0/users",
                headers={"Authorization": f"Bearer {tenant.admin}"},
                json={"email": address, "name": f"racer {index}"},
            )

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(attempt, range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, [r.text for r in responses]
    assert all(400 <= s < 500 for s in statuses if s != 200), statuses
    for response in responses:
        if response.status_code == 400:
            assert response.json()["message"] == "Email already exists"
    found = api("POST", "/v0/users/find", key=tenant.admin, json={}).json()
    assert found["totalCount"] == 1
    assert found["results"][0]["email"] == address


# ------------------------------------------------------------------------- auth and scope


def test_missing_and_bad_credentials(api: Any, tenant: Tenant) -> None:
    assert_error(api("POST", "/v0/users", json={"email": email()}), 401, "Missing authentication")
    assert_error(api("GET", "/v0/users/1"), 401, "Missing authentication")
    bad = "uf_test_admin_abcdefgh_" + "0" * 32
    assert_error(api("GET", "/v0/users/1", key=bad), 401, "Unauthorized")
    assert_error(
        api("GET", "/v0/users/1", headers={"Authorization": "Basic abc"}), 401, "Unauthorized"
    )


def test_readonly_key_reads_but_never_writes(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    uid = user["userId"]
    assert api("GET", f"/v0/users/{uid}", key=tenant.readonly).status_code == 200
    assert api("POST", "/v0/users/find", key=tenant.readonly, json={}).status_code == 200
    assert api("GET", "/v0/users", key=tenant.readonly).status_code == 200
    writes = [
        ("POST", "/v0/users", {"email": email()}),
        ("PUT", f"/v0/users/{uid}", {"name": "x"}),
        ("DELETE", f"/v0/users/{uid}", None),
        ("POST", "/v0/users/invite", {"email": email()}),
        ("POST", "/v0/users/createOrUpdate", {"email": email()}),
        ("POST", f"/v0/users/{uid}/active", None),
        ("POST", "/v0/auth/link/generate", {"email": user["email"]}),
        ("POST", f"/v0/tenants/{tenant.tenant_id}/users", {"email": email()}),
        ("PUT", f"/v0/tenants/{tenant.tenant_id}/users/{uid}", {"name": "x"}),
        ("DELETE", f"/v0/tenants/{tenant.tenant_id}/users/{uid}", None),
    ]
    for method, path, body in writes:
        assert_error(api(method, path, key=tenant.readonly, json=body), 403, "Forbidden")
    assert api("GET", f"/v0/users/{uid}", key=tenant.admin).json()["name"] == user["name"]


def test_webhook_key_is_not_an_api_credential(api: Any, workspace: Any) -> None:
    assert_error(
        api("GET", "/v0/users", key=workspace.keys["test"]["webhook"]), 401, "Unauthorized"
    )


def test_tenant_level_scope(api: Any, workspace: Any, tenant: Tenant) -> None:
    sibling = new_tenant(api, workspace.keys["test"]["admin"])
    path = f"/v0/tenants/{sibling.tenant_id}/users"
    assert_error(api("POST", path, key=tenant.admin, json={"email": email()}), 403, "Forbidden")
    assert_error(api("GET", path, key=tenant.admin), 403, "Forbidden")
    assert_error(api("POST", f"{path}/find", key=tenant.admin, json={}), 403, "Forbidden")
    unknown = "/v0/tenants/zzzzzzz9/users"
    assert_error(api("GET", unknown, key=tenant.admin), 403, "Forbidden")
    assert_error(api("GET", "/v0/tenants/NOT-VALID/users", key=tenant.admin), 404)
    # The parent (workspace) key reaches its descendant.
    ok = api(
        "POST",
        f"/v0/tenants/{tenant.tenant_id}/users",
        key=workspace.keys["test"]["admin"],
        json={"email": email()},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["tenantId"] == tenant.tenant_id


# ------------------------------------------------------------------------- read


def test_read_by_id_and_uuid_and_trailing_slash(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    for ref in (str(user["userId"]), user["userUuid"], user["userUuid"].upper()):
        response = api("GET", f"/v0/users/{ref}", key=tenant.admin)
        assert response.status_code == 200, response.text
        # A single read adds the linked SSO identities (extension; none here).
        expected = user | {"updatedAt": response.json()["updatedAt"], "ssoIdentities": []}
        assert response.json() == expected
    assert api("GET", f"/v0/users/{user['userId']}/", key=tenant.admin).status_code == 200
    tenant_level = api(
        "GET", f"/v0/tenants/{tenant.tenant_id}/users/{user['userId']}", key=tenant.admin
    )
    assert tenant_level.status_code == 200
    assert tenant_level.json()["userUuid"] == user["userUuid"]


@pytest.mark.parametrize(
    "ref", ["999", "0", "-1", "1.5", "abc", "00000000-0000-4000-8000-000000000000", "1e3"]
)
def test_unknown_or_malformed_user_ids_are_404(api: Any, tenant: Tenant, ref: str) -> None:
    create_user(api, tenant.admin)
    assert_error(api("GET", f"/v0/users/{ref}", key=tenant.admin), 404, "User not found")


def test_users_of_another_tenant_or_mode_are_404(api: Any, workspace: Any, tenant: Tenant) -> None:
    other = new_tenant(api, workspace.keys["test"]["admin"])
    theirs = create_user(api, other.admin)
    create_user(api, tenant.admin)  # userId 1 exists here too, but is a different user
    mine = api("GET", "/v0/users/1", key=tenant.admin).json()
    assert mine["userUuid"] != theirs["userUuid"]
    assert_error(
        api("GET", f"/v0/users/{theirs['userUuid']}", key=tenant.admin), 404, "User not found"
    )
    assert_error(
        api("PUT", f"/v0/users/{theirs['userUuid']}", key=tenant.admin, json={"name": "x"}), 404
    )
    assert_error(api("DELETE", f"/v0/users/{theirs['userUuid']}", key=tenant.admin), 404)
    live_key = workspace.keys["live"]["admin"]
    assert_error(
        api("GET", f"/v0/tenants/{tenant.tenant_id}/users/1", key=live_key), 403, "Forbidden"
    )


def test_reserved_segments_are_not_user_ids(api: Any, tenant: Tenant) -> None:
    assert api("GET", "/v0/users/find", key=tenant.admin).status_code == 405
    assert api("DELETE", "/v0/users/invite", key=tenant.admin).status_code == 405


# ------------------------------------------------------------------------- update


def test_update_merges_data_and_changes_fields(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin, data={"a": 1, "b": 2}, name="Old")
    uid = user["userId"]
    response = api(
        "PUT",
        f"/v0/users/{uid}",
        key=tenant.admin,
        json={"name": "New", "data": {"b": None, "c": 3}},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "New"
    assert updated["data"] == {"a": 1, "c": 3}
    assert updated["updatedAt"] >= user["updatedAt"]
    unchanged = api("PUT", f"/v0/users/{uid}", key=tenant.admin, json={"data": {}}).json()
    assert unchanged["data"] == {"a": 1, "c": 3}
    again = api("GET", f"/v0/users/{user['userUuid']}", key=tenant.admin).json()
    assert again["data"] == {"a": 1, "c": 3}


def test_update_errors(api: Any, tenant: Tenant) -> None:
    taken = create_user(api, tenant.admin, username=unique("taken"))
    user = create_user(api, tenant.admin)
    path = f"/v0/users/{user['userId']}"
    assert_error(api("PUT", path, key=tenant.admin, json={}), 400, "At least one field is required")
    assert_error(
        api("PUT", path, key=tenant.admin, json={"userId": 9}), 400, '"userId" is not allowed'
    )
    assert_error(api("PUT", path, key=tenant.admin, json={"userUuid": user["userUuid"]}), 400)
    assert_error(
        api("PUT", path, key=tenant.admin, json={"email": taken["email"].upper()}),
        400,
        "Email already exists",
    )
    assert_error(
        api("PUT", path, key=tenant.admin, json={"username": taken["username"]}),
        400,
        "Username already exists",
    )
    assert_error(
        api("PUT", path, key=tenant.admin, json={"email": None}), 400, '"email" is required'
    )
    assert_error(api("PUT", path, key=tenant.admin, json={"password": "weak"}), 400)
    assert_error(
        api("PUT", "/v0/users/4242", key=tenant.admin, json={"name": "x"}), 404, "User not found"
    )
    assert api("GET", path, key=tenant.admin).json()["email"] == user["email"]


def test_changing_email_moves_its_guard_and_unconfirms(api: Any, tenant: Tenant) -> None:
    old = email("old")
    user = create_user(api, tenant.admin, email=old, isEmailConfirmed=True)
    new = email("new")
    updated = api(
        "PUT", f"/v0/users/{user['userId']}", key=tenant.admin, json={"email": new}
    ).json()
    assert updated["email"] == new
    assert updated["isEmailConfirmed"] is False
    assert updated["confirmedEmailAt"] is None
    # The old address is free again, the new one is taken.
    create_user(api, tenant.admin, email=old)
    assert_error(
        api("POST", "/v0/users", key=tenant.admin, json={"email": new}), 400, "Email already exists"
    )


def test_update_password_lock_and_confirm(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    path = f"/v0/users/{user['userId']}"
    body = {
        "password": "new password 12345",
        "locked": True,
        "isEmailConfirmed": True,
        "isMfaRequired": True,
        "phoneNumber": "+15551230000",
        "image": None,
    }
    updated = api("PUT", path, key=tenant.admin, json=body).json()
    assert updated["locked"] is True
    assert updated["isEmailConfirmed"] is True and updated["confirmedEmailAt"]
    assert updated["isMfaRequired"] is True
    assert updated["phoneNumber"] == "+15551230000"
    assert "password" not in updated and "passwordHash" not in updated


def test_tenant_level_update_and_delete(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    base = f"/v0/tenants/{tenant.tenant_id}/users/{user['userUuid']}"
    assert (
        api("PUT", base, key=tenant.admin, json={"name": "Tenant Level"}).json()["name"]
        == "Tenant Level"
    )
    deleted = api("DELETE", base, key=tenant.admin)
    assert deleted.status_code == 200
    assert deleted.json()["name"] == "Tenant Level"
    assert_error(api("GET", base, key=tenant.admin), 404, "User not found")


# ------------------------------------------------------------------------- delete


def test_delete_returns_the_user_frees_identifiers_and_never_reuses_ids(
    api: Any, tenant: Tenant
) -> None:
    name = unique("gone")
    user = create_user(
        api, tenant.admin, username=name, phoneNumber="+15557654321", roles=["member"]
    )
    response = api("DELETE", f"/v0/users/{user['userId']}", key=tenant.admin)
    assert response.status_code == 200
    before = response.json()
    assert before["userUuid"] == user["userUuid"]
    assert before["authorization"][tenant.tenant_id]["roles"] == ["member"]
    assert_error(api("GET", f"/v0/users/{user['userId']}", key=tenant.admin), 404, "User not found")
    assert_error(
        api("DELETE", f"/v0/users/{user['userId']}", key=tenant.admin), 404, "User not found"
    )
    again = create_user(
        api, tenant.admin, email=user["email"], username=name, phoneNumber="+15557654321"
    )
    assert again["userId"] == user["userId"] + 1


# ------------------------------------------------------------------------- createOrUpdate


def test_create_or_update(api: Any, tenant: Tenant) -> None:
    path = "/v0/users/createOrUpdate"
    address = email()
    created = api("POST", path, key=tenant.admin, json={"email": address, "name": "First"})
    assert created.status_code == 200, created.text
    user = created.json()
    by_id = api(
        "POST", path, key=tenant.admin, json={"userId": user["userId"], "name": "By id"}
    ).json()
    assert (by_id["userUuid"], by_id["name"]) == (user["userUuid"], "By id")
    by_uuid = api(
        "POST", path, key=tenant.admin, json={"userUuid": user["userUuid"], "name": "By uuid"}
    )
    assert by_uuid.json()["name"] == "By uuid"
    legacy = api("POST", path, key=tenant.admin, json={"uuid": user["userUuid"], "name": "Legacy"})
    assert legacy.json()["name"] == "Legacy"
    # Never matched by email: creating with a taken email fails.
    assert_error(
        api("POST", path, key=tenant.admin, json={"email": address}), 400, "Email already exists"
    )
    # A free userId/userUuid is kept for the new user.
    wanted_uuid = "3c7d1f2a-8e4b-4d0a-9b6e-51f0c2a7d944"
    kept = api(
        "POST",
        path,
        key=tenant.admin,
        json={"userId": 50, "userUuid": wanted_uuid, "email": email()},
    )
    assert kept.status_code == 200, kept.text
    assert (kept.json()["userId"], kept.json()["userUuid"]) == (50, wanted_uuid)
    assert create_user(api, tenant.admin)["userId"] == 51
    other = create_user(api, tenant.admin)
    mismatch = {"userId": other["userId"], "userUuid": user["userUuid"], "name": "x"}
    assert_error(api("POST", path, key=tenant.admin, json=mismatch), 400)
    assert_error(
        api("POST", path, key=tenant.admin, json={"userId": 777, "name": "x"}),
        400,
        '"email" is required',
    )
    assert_error(
        api("POST", path, key=tenant.admin, json={"userUuid": "nope", "email": email()}), 400
    )
    tenant_level = api(
        "POST",
        f"/v0/tenants/{tenant.tenant_id}/users/createOrUpdate",
        key=tenant.admin,
        json={"userId": user["userId"], "name": "Tenant level"},
    )
    assert tenant_level.json()["name"] == "Tenant level"


# ------------------------------------------------------------------------- mark active


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_mark_active_sets_last_active_without_an_event(
    api: Any, tenant: Tenant, method: str
) -> None:
    user = create_user(api, tenant.admin)
    before_updates = len(events_for(api, "user.update", userUuid=user["userUuid"]))
    response = api(method, f"/v0/users/{user['userId']}/active", key=tenant.admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "OK"
    assert body["lastActiveAt"].endswith("Z")
    read = api("GET", f"/v0/users/{user['userId']}", key=tenant.admin).json()
    assert read["lastActiveAt"] == body["lastActiveAt"]
    assert read["updatedAt"] == user["updatedAt"]
    assert len(events_for(api, "user.update", userUuid=user["userUuid"])) == before_updates
    tenant_level = api(
        method,
        f"/v0/tenants/{tenant.tenant_id}/users/{user['userUuid']}/active",
        key=tenant.admin,
        json={},
    )
    assert tenant_level.status_code == 200


def test_mark_active_errors(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    assert_error(api("POST", "/v0/users/999/active", key=tenant.admin), 404, "User not found")
    assert_error(
        api("POST", f"/v0/users/{user['userId']}/active", key=tenant.admin, json={"x": 1}),
        400,
        '"x" is not allowed',
    )


# ------------------------------------------------------------------------- routing


def test_unsupported_methods_are_405(api: Any, tenant: Tenant) -> None:
    assert api("PATCH", "/v0/users", key=tenant.admin).status_code == 405
    assert api("DELETE", "/v0/users/find", key=tenant.admin).status_code == 405
    preflight = api(
        "OPTIONS",
        "/v0/users",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code in (200, 204)


def test_search_and_list_use_one_filter_language(api: Any, tenant: Tenant) -> None:
    user = create_user(api, tenant.admin)
    body = one_filter("email", "string", "is", user["email"])
    found = api(
        "POST", f"/v0/tenants/{tenant.tenant_id}/users/find", key=tenant.readonly, json=body
    )
    assert found.json()["totalCount"] == 1


def test_concurrent_requests_each_get_their_own_answer(base_url: str, tenant: Tenant) -> None:
    """The local runtime serves API events one at a time: Powertools keeps the current
    event on a class attribute, so concurrent requests used to swap bodies."""
    import httpx

    addresses = [email(f"own{index}") for index in range(16)]

    def attempt(address: str) -> tuple[str, httpx.Response]:
        with httpx.Client(base_url=base_url, timeout=60) as http:
            return address, http.post(
                "/v0/users",
                headers={"Authorization": f"Bearer {tenant.admin}"},
                json={"email": address, "name": address},
            )

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(attempt, addresses))
    for address, response in answers:
        assert response.status_code == 200, response.text
        assert response.json()["email"] == address
