"""Custom JWTs over HTTP (api-server §12.3–12.6, concepts §2.7, §8.3; docs/tokens.md):
the format of every user's access token, the possible claims, and minted tokens for a
user or a machine, verified with PyJWT's `PyJWKClient` against the tenant's JWKS.

One child tenant of the workspace per module (test mode), so the format set here never
reaches another test's tokens.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from authkit import PASSWORD, bearer, claims, error, jwt_header, log_in, new_tenant, tokens
from authkit import unique_email as email_for
from conformance import conforms
from jwt import PyJWKClient

FORMAT = {
    "sub": "{{userUuid}}",
    "email": "{{email}}",
    "roles": "{{authorization}}",
    "tenantId": "{{tenantId}}",
    "nickname": "{{data.nickname}}",
    "plan": "{{data.plan}}",
    "label": "user-{{userId}} of {{tenant.name}}{{data.missing}}",
    "missing": "{{data.missing}}",
    "app": "acme",
    "nested": {"seats": "{{data.plan.seats}}", "list": ["{{isConfirmed}}", 3]},
}


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace: Any) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="Custom JWT")


@pytest.fixture(scope="module")
def keys(base_url: str, workspace: Any, tenant: str) -> dict[str, str]:
    """Admin and readonly keys of the module's tenant, and of a grandchild under it."""
    admin = workspace.key("test", "admin")
    made: dict[str, str] = {"workspace": admin}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for name, key_type in (("admin", "admin"), ("readonly", "readonly")):
            body = {"type": key_type, "tenantId": tenant}
            created = http.post("/v0/keys", json=body, headers=bearer(admin))
            assert created.status_code == 200, created.text
            made[name] = created.json()["key"]
        child = http.post(
            f"/v0/tenants/{tenant}/tenants", json={"name": "G"}, headers=bearer(admin)
        )
        assert child.status_code == 200, child.text
        made["grandchild"] = child.json()["tenantId"]
    return made


@pytest.fixture(scope="module")
def user(base_url: str, keys: dict[str, str], tenant: str) -> dict[str, Any]:
    body = {
        "email": email_for("jwt"),
        "password": PASSWORD,
        "data": {"nickname": "JD", "plan": {"tier": "pro", "seats": 3}},
    }
    with httpx.Client(base_url=base_url, timeout=30) as http:
        created = http.post(f"/v0/tenants/{tenant}/users", json=body, headers=bearer(keys["admin"]))
    assert created.status_code == 200, created.text
    return created.json()


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    conforms(response)  # the answer is what docs/openapi.json declares
    body: dict[str, Any] = response.json()
    return body


def _set_format(client: httpx.Client, tenant: str, key: str, fmt: Any) -> httpx.Response:
    return client.put(
        f"/v0/tenants/{tenant}/auth/jwt/format", json={"format": fmt}, headers=bearer(key)
    )


def _jwks_key(base_url: str, tenant: str, token: str) -> Any:
    return PyJWKClient(f"{base_url}/v0/tenants/{tenant}/jwks?test=true").get_signing_key_from_jwt(
        token
    )


def _verified(base_url: str, tenant: str, token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        token, _jwks_key(base_url, tenant, token).key, algorithms=["RS256"]
    )
    return decoded


# --------------------------------------------------------------------- the format


def test_format_round_trip_shapes_log_in_and_refresh_tokens(
    client: httpx.Client, base_url: str, tenant: str, keys: dict[str, str], user: dict[str, Any]
) -> None:
    path = f"/v0/tenants/{tenant}/auth/jwt/format"
    default = _ok(client.get(path, headers=bearer(keys["readonly"])))
    assert default["isDefault"] is True and default["updatedAt"] is None
    assert default["format"]["userId"] == "{{userId}}"
    assert default["format"]["isConfirmed"] == "{{isConfirmed}}"

    saved = _ok(_set_format(client, tenant, keys["admin"], FORMAT))
    assert saved["format"] == FORMAT and saved["isDefault"] is False and saved["updatedAt"]
    read = _ok(client.get(path, headers=bearer(keys["readonly"])))
    assert read == saved

    signed_in = log_in(client, tenant, user["email"])
    assert signed_in.status_code == 200, signed_in.text
    access, id_token, refresh = tokens(signed_in.json())
    got = _verified(base_url, tenant, access)
    assert got["sub"] == user["userUuid"] and got["email"] == user["email"]
    assert got["roles"] == {tenant: {"roles": []}} == got["authorization"]
    assert got["nickname"] == "JD" and got["plan"] == {"tier": "pro", "seats": 3}
    assert got["label"] == f"user-{user['userId']} of Custom JWT"
    assert got["missing"] is None and got["app"] == "acme"
    assert got["nested"] == {"seats": 3, "list": [False, 3]}
    # Reserved claims stay, with their true values; other default claims follow the format.
    assert got["userId"] == user["userId"] and got["mode"] == "test"
    assert got["sessionId"] == signed_in.json()["sessionId"] and got["iss"]
    assert "isConfirmed" not in got and "authentication" not in got
    assert "app" not in claims(id_token) and "app" not in claims(refresh)
    # Our own API still takes the formatted token (rights from stored state).
    assert _ok(client.get("/v0/self", headers=bearer(access)))["userId"] == user["userId"]

    refreshed = _ok(client.get("/v0/auth/refresh", headers=bearer(refresh)))
    again = _verified(base_url, tenant, refreshed["tokens"]["access"]["value"])
    assert again["app"] == "acme" and again["nickname"] == "JD" and "isConfirmed" not in again

    # POST is accepted like PUT; `{format: null}` restores the default claims.
    changed = client.post(path, json={"format": {"app": "v2"}}, headers=bearer(keys["admin"]))
    assert _ok(changed)["format"] == {"app": "v2"}
    restored = _ok(_set_format(client, tenant, keys["admin"], None))
    assert restored["isDefault"] is True and restored["format"] == default["format"]
    assert _ok(client.get(path, headers=bearer(keys["admin"])))["isDefault"] is True
    plain = claims(tokens(log_in(client, tenant, user["email"]).json())[0])
    assert "app" not in plain and plain["isConfirmed"] is False and "authentication" in plain


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"format": {"sub": "{{nope}}"}}, '"format.sub" uses an unknown claim path: nope'),
        (
            {"format": {"a": ["{{data.x}}", {"b": "x{{user.email}}"}]}},
            "unknown claim path: user.email",
        ),
        ({"format": {"userId": "{{userUuid}}"}}, "Reserved claim: userId"),
        ({"format": {"authorization": {"x": 1}}}, "Reserved claim: authorization"),
        ({"format": {"iat": 1}}, "Reserved claim: iat"),
        ({"format": {"exp": "{{exp}}"}}, "Reserved claim: exp"),
        ({"format": {"nbf": 1}}, '"format.nbf" is not allowed'),
        ({"format": {f"k{i}": 1 for i in range(101)}}, '"format" must contain at most 100 keys'),
        ({"format": {"big": "x" * 8200}}, '"format" must be at most 8192 bytes as JSON'),
        ({"format": {"a": "x" * 2000, "b": "y" * 2000}}, "larger than 3800 bytes"),
        ({"format": []}, '"format" must be an object'),
        ({"format": "{{email}}"}, '"format" must be an object'),
        ({}, '"format" is required'),
        ({"format": {}, "extra": 1}, '"extra" is not allowed'),
    ],
)
def test_bad_formats_are_refused_naming_the_problem(
    client: httpx.Client, tenant: str, keys: dict[str, str], body: Any, message: str
) -> None:
    refused = client.put(
        f"/v0/tenants/{tenant}/auth/jwt/format", json=body, headers=bearer(keys["admin"])
    )
    assert message in error(refused, 400)["message"]


def test_the_settings_endpoint_cannot_change_the_format(
    client: httpx.Client, tenant: str, keys: dict[str, str]
) -> None:
    settings = f"/v0/tenants/{tenant}/settings"
    refused = client.put(
        settings,
        json={"jwtFormat": {"format": {"iat": 1}, "updatedAt": "x"}},
        headers=bearer(keys["admin"]),
    )
    assert error(refused, 400)["message"].startswith('"jwtFormat" is set with PUT')
    # A read-modify-write round trip that sends it back unchanged still works.
    current = _ok(client.get(settings, headers=bearer(keys["admin"])))
    assert _ok(
        client.put(
            settings, json={"jwtFormat": current["jwtFormat"]}, headers=bearer(keys["admin"])
        )
    )


def test_possible_claims_list_fixed_paths_and_data_keys(
    client: httpx.Client, tenant: str, keys: dict[str, str], user: dict[str, Any]
) -> None:
    listed = _ok(
        client.get(f"/v0/tenants/{tenant}/auth/jwt/claims", headers=bearer(keys["readonly"]))
    )
    by_path = {entry["path"]: entry for entry in listed["results"]}
    assert listed["totalCount"] == len(listed["results"]) and listed["totalPages"] == 1
    for path in (
        "mode", "tenantId", "userId", "userUuid", "email", "username", "name", "image",
        "phoneNumber", "isEmailConfirmed", "isPhoneNumberConfirmed", "isConfirmed",
        "isMfaRequired", "authorization", "sessionId", "createdAt", "updatedAt",
        "tenant.name", "data",
    ):  # fmt: skip
        assert path in by_path, path
    assert by_path["userId"]["type"] == "number" and by_path["email"]["type"] == "string"
    assert by_path["tenantId"]["example"] == tenant
    assert by_path["tenant.name"]["example"] == "Custom JWT"
    assert by_path["data.nickname"] == {"path": "data.nickname", "type": "string", "example": "JD"}
    assert by_path["data.plan"]["type"] == "object"
    assert by_path["data.plan"]["example"] == {"tier": "pro", "seats": 3}


# ------------------------------------------------------------------ minted tokens


def test_machine_token_verifies_with_the_jwks_and_is_no_user_token(
    client: httpx.Client, base_url: str, tenant: str, keys: dict[str, str]
) -> None:
    body = {
        "payload": {"deviceId": "press-7", "scope": ["read"]},
        "options": {"duration": "1 hour"},
    }
    before = int(time.time())
    minted = _ok(
        client.post(f"/v0/tenants/{tenant}/auth/jwt", json=body, headers=bearer(keys["admin"]))
    )
    token = minted["accessToken"]
    got = _verified(base_url, tenant, token)
    assert got == minted["payload"]
    assert got["mode"] == "test" and got["tenantId"] == tenant and got["iss"]
    assert got["deviceId"] == "press-7" and got["scope"] == ["read"]
    assert got["exp"] - got["iat"] == 3600 and got["iat"] >= before - 1
    assert not {"userId", "sessionId", "authorization"} & set(got)
    assert jwt_header(token)["kid"] == _jwks_key(base_url, tenant, token).key_id
    assert minted["expiresAt"].endswith("Z")
    # No endpoint of ours takes it as a user's access token or an admin credential.
    error(client.get("/v0/self", headers=bearer(token)), 401)
    error(client.get(f"/v0/tenants/{tenant}/auth/jwt/format", headers=bearer(token)), 401)
    # The default lifetime is the tenant's accessTokenDuration (7 days).
    plain = _ok(
        client.post(
            f"/v0/tenants/{tenant}/auth/jwt", json={"payload": {}}, headers=bearer(keys["admin"])
        )
    )
    assert plain["payload"]["exp"] - plain["payload"]["iat"] == 604_800


def test_user_token_has_the_users_claims_and_its_own_revocable_session(
    client: httpx.Client, base_url: str, tenant: str, keys: dict[str, str], user: dict[str, Any]
) -> None:
    admin = bearer(keys["admin"])
    _ok(_set_format(client, tenant, keys["admin"], {"nickname": "{{data.nickname}}", "app": "fmt"}))
    try:
        body = {
            "userUuid": user["userUuid"],
            "payload": {"actor": "support-42", "app": "payload", "userId": user["userId"]},
            "options": {"duration": "10 minutes"},
        }
        minted = _ok(client.post(f"/v0/tenants/{tenant}/auth/jwt", json=body, headers=admin))
    finally:
        _ok(_set_format(client, tenant, keys["admin"], None))
    token = minted["accessToken"]
    got = _verified(base_url, tenant, token)
    assert got["userId"] == user["userId"] and got["userUuid"] == user["userUuid"]
    assert got["authorization"] == {tenant: {"roles": []}} and got["mode"] == "test"
    assert got["nickname"] == "JD" and got["actor"] == "support-42"
    assert got["app"] == "payload"  # the payload goes over the format
    assert got["exp"] - got["iat"] == 600
    # Tied to a session of its own: our API takes it while that session is live...
    assert _ok(client.get("/v0/self", headers=bearer(token)))["userUuid"] == user["userUuid"]
    sessions = f"/v0/tenants/{tenant}/users/{user['userId']}/sessions"
    listed = _ok(client.get(sessions, headers=admin))["results"]
    assert got["sessionId"] in {s["sessionId"] for s in listed}
    # ...and ending the user's sessions revokes it.
    _ok(client.delete(f"{sessions}/{got['sessionId']}", headers=admin))
    error(client.get("/v0/self", headers=bearer(token)), 401)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"payload": {"exp": 1}}, 400, '"payload.exp" is not allowed'),
        ({"payload": {"iat": 1}}, 400, '"payload.iat" is not allowed'),
        ({"payload": {"nbf": 1}}, 400, '"payload.nbf" is not allowed'),
        ({"payload": {"type": "refresh"}}, 400, '"payload.type" is not allowed'),
        ({"payload": {"x": "y" * 8200}}, 400, '"payload" must be at most 8192 bytes as JSON'),
        ({"payload": {"tenantId": "USE_PARENT"}}, 400, "Reserved claim: tenantId"),
        ({"payload": {"mode": "live"}}, 400, "Reserved claim: mode"),
        ({"payload": {"userId": 1}}, 400, "Reserved claim: userId"),
        ({"payload": {"authorization": {}}}, 400, "Reserved claim: authorization"),
        ({"payload": {"sessionId": "s"}}, 400, "Reserved claim: sessionId"),
        ({"payload": {"a": 1}, "userId": "USER", "extra": 1}, 400, '"extra" is not allowed'),
        ({"payload": {"userId": 999}, "userId": "USER"}, 400, "Reserved claim: userId"),
        (
            {"payload": {"authorization": {}}, "userId": "USER"},
            400,
            "Reserved claim: authorization",
        ),
        ({"payload": {"sessionId": "s"}, "userId": "USER"}, 400, "Reserved claim: sessionId"),
        ({"payload": {}, "userId": 999_999}, 404, "User not found"),
        (
            {"payload": {}, "userUuid": "00000000-0000-4000-8000-000000000000"},
            404,
            "User not found",
        ),
        ({"payload": {}, "userId": "5"}, 400, '"userId" must be an integer'),
        ({"payload": []}, 400, '"payload" must be an object'),
        ({}, 400, '"payload" is required'),
        (
            {"payload": {}, "options": {"duration": "9 seconds"}},
            400,
            '"options.duration" must be between 10 seconds and 30 days',
        ),
        (
            {"payload": {}, "options": {"duration": "31 days"}},
            400,
            '"options.duration" must be between 10 seconds and 30 days',
        ),
        (
            {"payload": {}, "options": {"duration": 60}},
            400,
            '"options.duration" must be between 10 seconds and 30 days',
        ),
    ],
)
def test_bad_mint_requests(
    client: httpx.Client,
    workspace: Any,
    tenant: str,
    keys: dict[str, str],
    user: dict[str, Any],
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    if body.get("userId") == "USER":
        body = {**body, "userId": user["userId"]}
    if body.get("payload") == {"tenantId": "USE_PARENT"}:
        body = {**body, "payload": {"tenantId": workspace.tenant_id}}
    answer = client.post(f"/v0/tenants/{tenant}/auth/jwt", json=body, headers=bearer(keys["admin"]))
    assert message in error(answer, status)["message"]


def test_duration_bounds_are_inclusive(
    client: httpx.Client, tenant: str, keys: dict[str, str]
) -> None:
    for duration, seconds in (("10 seconds", 10), ("30 days", 30 * 86_400)):
        body = {"payload": {}, "options": {"duration": duration}}
        minted = _ok(
            client.post(f"/v0/tenants/{tenant}/auth/jwt", json=body, headers=bearer(keys["admin"]))
        )
        assert minted["payload"]["exp"] - minted["payload"]["iat"] == seconds


def test_tenant_scope_and_access_levels(
    client: httpx.Client,
    base_url: str,
    workspace: Any,
    tenant: str,
    keys: dict[str, str],
    user: dict[str, Any],
) -> None:
    parent = workspace.tenant_id
    grandchild = keys["grandchild"]
    mint = {"payload": {"k": 1}}
    # A key of the tenant mints for it and its descendants, never for its parent.
    below = _ok(
        client.post(f"/v0/tenants/{grandchild}/auth/jwt", json=mint, headers=bearer(keys["admin"]))
    )
    assert _verified(base_url, grandchild, below["accessToken"])["tenantId"] == grandchild
    for path, body in (("auth/jwt", mint), ("auth/jwt/format", {"format": None})):
        error(
            client.post(f"/v0/tenants/{parent}/{path}", json=body, headers=bearer(keys["admin"])),
            403,
        )
    error(client.get(f"/v0/tenants/{parent}/auth/jwt/claims", headers=bearer(keys["admin"])), 403)
    error(
        client.get(f"/v0/tenants/{parent}/auth/jwt/format", headers=bearer(keys["readonly"])), 403
    )
    # The user must belong to the addressed tenant.
    other_tenant = {"payload": {}, "userId": user["userId"]}
    error(
        client.post(
            f"/v0/tenants/{grandchild}/auth/jwt", json=other_tenant, headers=bearer(keys["admin"])
        ),
        404,
    )
    # A readonly key reads but never writes.
    readonly = bearer(keys["readonly"])
    error(client.post(f"/v0/tenants/{tenant}/auth/jwt", json=mint, headers=readonly), 403)
    error(_set_format(client, tenant, keys["readonly"], {"a": 1}), 403)
    error(
        client.post(
            f"/v0/tenants/{tenant}/auth/jwt/format", json={"format": None}, headers=readonly
        ),
        403,
    )
    assert client.get(f"/v0/tenants/{tenant}/auth/jwt/claims", headers=readonly).status_code == 200
    # No credential: 401 before the body is looked at.
    error(
        client.post(f"/v0/tenants/{tenant}/auth/jwt", json={"payload": 1}),
        401,
        "Missing authentication",
    )
    error(client.get(f"/v0/tenants/{tenant}/auth/jwt/format"), 401, "Missing authentication")
    # A body that is not an object, or no body at all: 400 naming it.
    admin = bearer(keys["admin"])
    path = f"/v0/tenants/{tenant}/auth/jwt"
    error(client.post(path, json=[1], headers=admin), 400, '"body" must be an object')
    error(client.post(path, content="{", headers=admin), 400, '"body" must be valid JSON')
    error(client.post(path, headers=admin), 400, '"payload" is required')
    error(client.put(f"{path}/format", headers=admin), 400, '"format" is required')
    error(
        client.delete(f"/v0/tenants/{tenant}/auth/jwt/format", headers=bearer(keys["admin"])), 405
    )
