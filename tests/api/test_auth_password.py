"""Log in with password (api-client §7.1), lockout (§4) and update password (§9.3)."""

from __future__ import annotations

import json
import time

import pytest
from authkit import (
    PASSWORD,
    bearer,
    claims,
    error,
    link_params,
    log_in,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
)
from conformance import conforms

INCORRECT = "Incorrect email or password"


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="Password tests")


def test_log_in_with_email_answers_tokens(client, tenant) -> None:
    email = unique_email("login")
    created = sign_up(client, tenant, email)
    response = log_in(client, tenant, email.upper())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "OK"
    assert body["redirectTo"] == "/dashboard"
    assert "firstFactorToken" not in body
    assert body["userId"] == created["userId"]
    assert body["sessionId"] != created["sessionId"]
    assert body["lastActiveAt"] is not None
    access, _, refresh = tokens(body)
    assert claims(access)["sessionId"] == body["sessionId"]
    assert claims(refresh)["sessionId"] == body["sessionId"]


def test_log_in_with_username_and_synonyms(client, tenant) -> None:
    username = f"user{time.time_ns()}"
    email = unique_email()
    sign_up(client, tenant, email, username=username)
    assert log_in(client, tenant, username.upper()).status_code == 200
    for key, value in (("email", email), ("username", username)):
        response = client.post(
            f"/v0/tenants/{tenant}/auth/basic", json={key: value, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text


def test_seeded_users_log_in_with_the_workspace_seed_password(client, workspace) -> None:
    response = log_in(client, workspace.tenant_id, "member@example.com", workspace.seed_password)
    assert response.status_code == 200, response.text
    assert claims(tokens(response.json())[0])["authorization"] == {
        workspace.tenant_id: {"roles": ["member"]}
    }


def test_unknown_account_and_wrong_password_look_the_same(client, tenant) -> None:
    email = unique_email("enum")
    sign_up(client, tenant, email)
    wrong = log_in(client, tenant, email, "wrong-password-123")
    unknown = log_in(client, tenant, unique_email("nobody"), "wrong-password-123")
    unknown_name = log_in(client, tenant, f"nobody{time.time_ns()}", "wrong-password-123")
    for response in (wrong, unknown, unknown_name):
        error(response, 400, INCORRECT)
        assert response.json()["error"] == {"type": "bad_request_error"}
    assert wrong.content == unknown.content == unknown_name.content


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"password": PASSWORD}, "emailOrUsername is required"),
        ({"emailOrUsername": "a@example.com"}, "password is required"),
        ({"emailOrUsername": 5, "password": PASSWORD}, '"emailOrUsername" must be a string'),
    ],
)
def test_log_in_requires_both_fields(client, tenant, body, message) -> None:
    error(client.post(f"/v0/tenants/{tenant}/auth/basic", json=body), 400, message)


def test_account_without_password(client, tenant) -> None:
    email = unique_email("nopassword")
    sent = client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": email})
    assert sent.status_code == 200
    plain = log_in(client, tenant, email, "anything-123456")
    error(plain, 400, INCORRECT)
    assert plain.json()["error"]["type"] == "bad_request_error"
    intended = client.post(
        f"/v0/tenants/{tenant}/auth/basic",
        json={"emailOrUsername": email, "password": "x", "options": {"noResetEmail": True}},
    )
    error(intended, 400, INCORRECT)
    assert intended.json()["error"]["type"] == "intended_error"


def test_locked_user_is_refused_only_after_the_right_password(
    client, tenant, workspace, base_url
) -> None:
    email = unique_email("locked")
    created = sign_up(client, tenant, email)
    locked = client.put(
        f"/v0/tenants/{tenant}/users/{created['userId']}",
        json={"locked": True},
        headers=bearer(workspace.key("test", "admin")),
    )
    assert locked.status_code == 200, locked.text
    error(log_in(client, tenant, email, "wrong-password-123"), 400, INCORRECT)
    error(log_in(client, tenant, email), 403, "User is locked")


def test_repeated_failures_lock_the_password_factor(client, base_url, workspace) -> None:
    limited = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"rateLimits": {"attemptsPerAccount": {"limit": 3, "windowSeconds": 900}}},
    )
    email = unique_email("lockout")
    sign_up(client, limited, email)
    # Successful sign-ins take their attempt back: they never add up to a lockout.
    for _ in range(4):
        assert log_in(client, limited, email).status_code == 200
    for _ in range(3):
        error(log_in(client, limited, email, "wrong-password-123"), 400, INCORRECT)
    locked = log_in(client, limited, email)
    body = error(locked, 429, "Too many requests, please try again later")
    assert body["error"]["type"] == "rate_limit_error"
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    # An unknown account is counted and locked exactly the same way.
    stranger = unique_email("stranger")
    for _ in range(3):
        error(log_in(client, limited, stranger, "wrong-password-123"), 400, INCORRECT)
    assert log_in(client, limited, stranger, "wrong-password-123").content == locked.content
    # Only the password factor is locked: a login link still works.
    sent = client.post(f"/v0/tenants/{limited}/auth/link", json={"email": email})
    params = link_params(sent.json()["result"]["link"])
    redeemed = client.put(
        f"/v0/tenants/{limited}/auth/link", json={"uuid": params["uuid"], "token": params["token"]}
    )
    assert redeemed.status_code == 200, redeemed.text


def test_first_factor_token_handling(client, tenant) -> None:
    email = unique_email("fft")
    sign_up(client, tenant, email)
    stale = "uf_test_first_factor_" + "0" * 32
    ok = client.post(
        f"/v0/tenants/{tenant}/auth/basic",
        json={"emailOrUsername": email, "password": PASSWORD},
        headers=bearer(stale),
    )
    assert ok.status_code == 200, ok.text
    for bad in ("uf_test_first_factor_nothex", "uf_live_first_factor_" + "0" * 32):
        response = client.post(
            f"/v0/tenants/{tenant}/auth/basic",
            json={"emailOrUsername": email, "password": PASSWORD},
            headers=bearer(bad),
        )
        error(response, 401, "Invalid token")


# ------------------------------------------------------------------ update password


def _update(client, path: str, token: str, **body) -> object:
    return client.put(path, json=body, headers=bearer(token))


def test_update_password_revokes_other_sessions(client, tenant) -> None:
    email = unique_email("change")
    first = sign_up(client, tenant, email)
    other_access, _, other_refresh = tokens(first)
    second = log_in(client, tenant, email).json()
    access, _, refresh = tokens(second)
    path = f"/v0/tenants/{tenant}/auth/basic"
    error(_update(client, path, access, password="new-password-123"), 400, "Incorrect password")
    error(
        _update(client, path, access, password="new-password-123", existingPassword="wrong-1234"),
        400,
        "Incorrect password",
    )
    error(_update(client, path, access, existingPassword=PASSWORD), 400, "password is required")
    done = _update(client, path, access, password="new-password-123", existingPassword=PASSWORD)
    assert done.status_code == 200, done.text
    assert done.json() == {"message": "OK"}
    conforms(done)  # the answer is what docs/openapi.json declares
    error(log_in(client, tenant, email), 400, INCORRECT)
    assert log_in(client, tenant, email, "new-password-123").status_code == 200
    # The calling session lives on; every other one ended.
    assert client.get("/v0/self", headers=bearer(access)).status_code == 200
    assert client.get("/v0/auth/refresh", headers=bearer(refresh)).status_code == 200
    error(client.get("/v0/self", headers=bearer(other_access)), 401)
    error(client.get("/v0/auth/refresh", headers=bearer(other_refresh)), 401, "Invalid token")


def test_update_password_of_a_passwordless_user_needs_no_existing_one(client, tenant) -> None:
    email = unique_email("setpw")
    sent = client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": email}).json()
    params = link_params(sent["result"]["link"])
    signed_in = client.put(
        f"/v0/tenants/{tenant}/auth/link", json={"uuid": params["uuid"], "token": params["token"]}
    ).json()
    access = tokens(signed_in)[0]
    done = _update(client, "/v0/auth/basic", access, password="first-password-123")
    assert done.status_code == 200, done.text
    assert log_in(client, tenant, email, "first-password-123").status_code == 200


def test_update_password_checks_policy_auth_and_tenant(client, tenant, workspace) -> None:
    access = tokens(sign_up(client, tenant))[0]
    path = f"/v0/tenants/{tenant}/auth/basic"
    error(_update(client, path, access, password="short", existingPassword=PASSWORD), 400)
    error(client.put(path, json={"password": "x"}), 401, "Missing authentication")
    error(_update(client, path, "not-a-jwt", password="x"), 401, "Unauthorized")
    other = f"/v0/tenants/{workspace.tenant_id}/auth/basic"
    error(_update(client, other, access, password="new-password-123"), 403, "Forbidden")
    error(
        _update(client, "/v0/auth/basic", access, password="new-password-123", tenantId="zzzzzzzz"),
        400,
        "tenantId does not match",
    )


def test_successful_password_changes_never_add_up_to_a_lockout(client, base_url, workspace) -> None:
    """A change takes its attempt back in its own transaction; only failures count."""
    tenant = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"rateLimits": {"attemptsPerAccount": {"limit": 2, "windowSeconds": 900}}},
        name="Change limits",
    )
    email = unique_email("rechange")
    access = tokens(sign_up(client, tenant, email))[0]
    current = PASSWORD
    for round_ in range(4):
        new = f"changed-password-{round_}"
        done = _update(client, "/v0/auth/basic", access, password=new, existingPassword=current)
        assert done.status_code == 200, done.text
        current = new
    assert log_in(client, tenant, email, current).status_code == 200


def test_overlong_identifiers_are_just_unknown(client, tenant) -> None:
    error(log_in(client, tenant, "x" * 3000), 400, INCORRECT)
    error(log_in(client, tenant, "x" * 3000 + "@example.com"), 400, INCORRECT)


def test_unpaired_surrogates_are_a_400(client, tenant) -> None:
    """ "\ud800" is valid JSON but not text: it must not reach hashing or keys as a 500."""
    cases = [
        ("POST", "auth/basic", {"emailOrUsername": "a@example.com", "password": "\ud800"}),
        ("POST", "auth/basic", {"emailOrUsername": "\ud800@example.com", "password": PASSWORD}),
        ("PUT", "auth/link", {"uuid": "u", "token": "\ud800"}),
        ("PUT", "auth/code", {"channel": "email", "email": "a@b.co", "verificationCode": "\ud800"}),
    ]
    for method, path, body in cases:
        response = client.request(
            method,
            f"/v0/tenants/{tenant}/{path}",
            content=json.dumps(body),  # ASCII escapes: "\ud800" as the JSON text carries it
            headers={"Content-Type": "application/json"},
        )
        assert 400 <= response.status_code < 500, (path, response.text)
