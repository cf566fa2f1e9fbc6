"""Sign up with password (api-client §6.1) and the shape every sign-in shares (§1.1, §1.3, §1.4)."""

from __future__ import annotations

import time

import pytest
from authkit import (
    PASSWORD,
    bearer,
    claims,
    error,
    jwt_header,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
)


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="Sign-up tests")


def test_sign_up_answers_the_sign_in_shape(client, tenant) -> None:
    email = unique_email("signup")
    body = sign_up(client, tenant, email, name="Jane Doe", username=f"jane{time.time_ns()}")
    assert body["message"] == "OK"
    assert body["mode"] == "test"
    assert body["redirectTo"] == "/dashboard"
    assert "firstFactorToken" not in body
    assert "authorizationCode" not in body
    assert body["email"] == email
    assert body["name"] == "Jane Doe"
    assert body["tenantId"] == tenant
    assert body["tenant"]["tenantId"] == tenant
    assert body["isEmailConfirmed"] is False and body["isConfirmed"] is False
    assert body["authorization"] == {tenant: {"roles": []}}
    assert isinstance(body["nonce"], str) and isinstance(body["sessionId"], str)
    for kind, same_site, days in (
        ("access", "Lax", 7),
        ("id", "Lax", 7),
        ("refresh", "Strict", 30),
    ):
        entry = body["tokens"][kind]
        assert entry["cookieOptions"] == {"secure": False, "sameSite": same_site, "expires": days}
        assert set(entry) == {"value", "cookieOptions"}


def test_tokens_carry_the_documented_claims(client, tenant) -> None:
    body = sign_up(client, tenant, data={"plan": "pro"})
    access, id_token, refresh = tokens(body)
    a, i, r = claims(access), claims(id_token), claims(refresh)
    for payload in (a, i, r):
        assert payload["mode"] == "test"
        assert payload["tenantId"] == tenant
        assert payload["userId"] == body["userId"]
        assert payload["userUuid"] == body["userUuid"]
        assert payload["sessionId"] == body["sessionId"]
        assert payload["iss"].startswith("http")
        assert "aud" not in payload
    assert a["authorization"] == {tenant: {"roles": []}}
    assert a["authentication"] == {"firstFactor": {"strategy": "password", "channel": "email"}}
    assert a["exp"] - a["iat"] == 604_800
    assert "type" not in a and "jti" not in a
    assert i["email"] == body["email"] and i["data"] == {"plan": "pro"}
    assert "authorization" not in i and i["isMfaRequired"] is False
    assert r["type"] == "refresh" and r["rot"] == 0 and isinstance(r["jti"], str)
    assert "authorization" not in r
    assert r["exp"] - r["iat"] == 2_592_000
    header = jwt_header(access)
    assert header["alg"] == "RS256" and header["typ"] == "JWT" and header["kid"]


def test_new_user_can_use_the_access_token(client, tenant) -> None:
    access, _, _ = tokens(sign_up(client, tenant))
    assert client.get("/v0/self", headers=bearer(access)).status_code == 200


def test_sign_up_emits_the_user_create_event(client, tenant) -> None:
    body = sign_up(client, tenant)
    events = client.get("/_local/events", params={"detailType": "user.create"}).json()
    records = [e for e in events if e["detail"]["record"].get("userUuid") == body["userUuid"]]
    assert len(records) == 1
    assert records[0]["detail"]["mode"] == "test"


def test_test_mode_sends_no_welcome_email(client, tenant) -> None:
    email = unique_email("quiet")
    sign_up(client, tenant, email)
    assert client.get("/_local/outbox", params={"to": email}).json() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"password": PASSWORD}, "email is required"),
        ({"email": None, "password": PASSWORD}, "email is required"),
        ({"email": "someone@example.com"}, "password is required"),
        ({"email": "not-an-email", "password": PASSWORD}, "Email format is invalid"),
        (
            {"email": "someone@example.com", "password": "short"},
            "Password must be at least 16 characters OR at least 8 characters including a "
            "number and a letter",
        ),
        ({"email": 5, "password": PASSWORD}, '"email" must be a string'),
        ({"email": "a@example.com", "password": PASSWORD, "data": []}, '"data" must be an object'),
    ],
)
def test_sign_up_rejects_bad_input(client, tenant, body, message) -> None:
    response = client.post(f"/v0/tenants/{tenant}/auth/create", json=body)
    error(response, 400, message)


def test_sign_up_without_a_body_names_the_field(client, tenant) -> None:
    error(client.post(f"/v0/tenants/{tenant}/auth/create"), 400, "email is required")


def test_reserved_passwords_are_test_mode_only(client, tenant) -> None:
    assert sign_up(client, tenant, password="password")["mode"] == "test"


def test_duplicate_email_and_username(client, tenant) -> None:
    email = unique_email("dupe")
    username = f"dupe{time.time_ns()}"
    sign_up(client, tenant, email, username=username)
    again = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": email.upper(), "password": PASSWORD},
    )
    error(again, 400, "Email exists")
    taken = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": unique_email(), "password": PASSWORD, "username": username},
    )
    error(taken, 400, "Username exists")


def test_data_that_would_overflow_the_id_token_is_refused(client, tenant) -> None:
    response = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": unique_email(), "password": PASSWORD, "data": {"blob": "x" * 4000}},
    )
    error(response, 400, "data is too large")


def test_sign_up_ignores_a_first_factor_token(client, tenant) -> None:
    body = sign_up(client, tenant, headers=bearer("uf_test_first_factor_malformed"))
    assert body["message"] == "OK"


def test_unknown_fields_are_ignored(client, tenant) -> None:
    body = sign_up(client, tenant, linkType="whatever", options={"noSignupEmail": True})
    assert body["message"] == "OK"


def test_unknown_and_malformed_tenants_are_404(client) -> None:
    body = {"email": unique_email(), "password": PASSWORD}
    error(client.post("/v0/tenants/zzzzzzzz/auth/create", json=body), 404)
    error(client.post("/v0/tenants/NOT-A-TENANT/auth/create", json=body), 404)


def test_sign_up_per_ip_limit_answers_429(client, base_url, workspace) -> None:
    limited = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"rateLimits": {"signupPerIp": {"limit": 2, "windowSeconds": 3600}}},
    )
    sign_up(client, limited)
    sign_up(client, limited)
    response = client.post(
        f"/v0/tenants/{limited}/auth/create", json={"email": unique_email(), "password": PASSWORD}
    )
    body = error(response, 429, "Too many requests, please try again later")
    assert body["error"]["type"] == "rate_limit_error"
    assert 0 < int(response.headers["Retry-After"]) <= 3600


def test_preflight_and_wrong_method(client, tenant) -> None:
    preflight = client.options(
        f"/v0/tenants/{tenant}/auth/create",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    error(client.get(f"/v0/tenants/{tenant}/auth/create"), 405)
