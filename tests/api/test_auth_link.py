"""Passwordless sign-up / login links (api-client §6.2, §7.4) and link login (§7.5)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from authkit import bearer, claims, error, link_params, new_tenant, sign_up, tokens, unique_email

from infra.local.testing import loopback_address


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"afterSignupPath": "/welcome", "logoutRedirectPath": "/signin"},
        name="Link tests",
    )


def _send(client, tenant: str, **body) -> dict:
    response = client.post(f"/v0/tenants/{tenant}/auth/link", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _redeem(client, tenant: str, link: str, **extra):
    params = link_params(link)
    body = {"uuid": params["uuid"], "token": params["token"], **extra}
    return client.put(f"/v0/tenants/{tenant}/auth/link", json=body)


def test_unknown_email_gets_a_welcome_link_and_an_account(client, tenant) -> None:
    email = unique_email("passwordless")
    body = _send(client, tenant, email=email, name="Pat", options={"redirect": "/next"})
    assert set(body) == {"message", "result"} and body["message"] == "OK"
    assert set(body["result"]) == {"email", "link"}
    link = body["result"]["link"]
    assert link.startswith("http://localhost:3000/signin?")
    params = link_params(link)
    assert params["type"] == "welcome" and params["redirect"] == "/next"
    signed_in = _redeem(client, tenant, link, linkType="welcome")
    assert signed_in.status_code == 200, signed_in.text
    data = signed_in.json()
    assert data["redirectTo"] == "/welcome"
    assert data["name"] == "Pat"
    assert data["isEmailConfirmed"] is True
    assert "firstFactorToken" not in data
    access = tokens(data)[0]
    assert claims(access)["authentication"]["firstFactor"] == {
        "strategy": "link",
        "channel": "email",
    }
    assert claims(access)["isEmailConfirmed"] is True


def test_known_email_gets_a_login_link_with_the_same_answer_shape(client, tenant) -> None:
    email = unique_email("known")
    sign_up(client, tenant, email)
    body = _send(client, tenant, email=email, name="ignored")
    assert set(body["result"]) == {"email", "link"}
    assert link_params(body["result"]["link"])["type"] == "login"
    signed_in = _redeem(client, tenant, body["result"]["link"])
    assert signed_in.status_code == 200
    assert signed_in.json()["redirectTo"] == "/dashboard"
    assert signed_in.json()["name"] == ""


def test_links_are_single_use(client, tenant) -> None:
    link = _send(client, tenant, email=unique_email())["result"]["link"]
    assert _redeem(client, tenant, link).status_code == 200
    error(_redeem(client, tenant, link), 401, "Invalid token")


def test_wrong_uuid_or_token_is_one_answer(client, tenant) -> None:
    first = link_params(_send(client, tenant, email=unique_email())["result"]["link"])
    other = link_params(_send(client, tenant, email=unique_email())["result"]["link"])
    path = f"/v0/tenants/{tenant}/auth/link"
    swapped = client.put(path, json={"uuid": other["uuid"], "token": first["token"]})
    made_up = client.put(path, json={"uuid": first["uuid"], "token": "nope"})
    error(swapped, 401, "Invalid token")
    assert swapped.content == made_up.content
    # Both credentials are still good for their own user.
    assert client.put(path, json=first).status_code == 200


def test_reset_links_are_not_login_links(client, tenant) -> None:
    email = unique_email("reset-as-login")
    sign_up(client, tenant, email)
    sent = client.post(f"/v0/tenants/{tenant}/auth/reset/link", json={"email": email}).json()
    error(_redeem(client, tenant, sent["result"]["link"]), 401, "Invalid token")


def test_expired_links_are_refused(client, tenant, workspace) -> None:
    email = unique_email("expiring")
    sign_up(client, tenant, email)
    generated = client.post(
        f"/v0/tenants/{tenant}/auth/link/generate",
        json={"email": email, "options": {"type": "login", "duration": "10 seconds"}},
        headers=bearer(workspace.key("test", "admin")),
    )
    assert generated.status_code == 200, generated.text
    credentials = {"uuid": generated.json()["uuid"], "token": generated.json()["token"]}
    time.sleep(11)
    error(client.put(f"/v0/tenants/{tenant}/auth/link", json=credentials), 401, "Invalid token")


@pytest.mark.parametrize(
    "body", [{}, {"uuid": "a"}, {"token": "b"}, {"uuid": None, "token": "b"}, {"uuid": ""}]
)
def test_link_login_requires_token_and_uuid(client, tenant, body) -> None:
    response = client.put(f"/v0/tenants/{tenant}/auth/link", json=body)
    error(response, 400, "token and uuid are required")


def test_send_link_validates_the_email(client, tenant) -> None:
    error(client.post(f"/v0/tenants/{tenant}/auth/link", json={}), 400, "email is required")
    error(
        client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": "nope"}),
        400,
        "Email format is invalid",
    )


def test_no_signup_email_creates_the_user_quietly(client, tenant) -> None:
    email = unique_email("quiet")
    body = _send(client, tenant, email=email, options={"noSignupEmail": True})
    assert body == {"message": "OK"}
    taken = client.post(
        f"/v0/tenants/{tenant}/auth/create", json={"email": email, "password": "abcdefgh1234"}
    )
    error(taken, 400, "Email exists")


def test_username_taken_when_creating(client, tenant) -> None:
    username = f"taken{time.time_ns()}"
    sign_up(client, tenant, username=username)
    response = client.post(
        f"/v0/tenants/{tenant}/auth/link", json={"email": unique_email(), "username": username}
    )
    error(response, 400, "Username exists")


def test_sends_per_target_are_limited(client, base_url, workspace) -> None:
    limited = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"rateLimits": {"sendIntervalPerTarget": {"limit": 1, "windowSeconds": 3600}}},
    )
    email = unique_email("spam")
    _send(client, limited, email=email)
    response = client.post(f"/v0/tenants/{limited}/auth/link", json={"email": email})
    error(response, 429, "Too many requests, please try again later")
    assert int(response.headers["Retry-After"]) > 0
    # Another address is its own target.
    _send(client, limited, email=unique_email())


def test_overlong_link_uuid_is_an_invalid_token(client, tenant) -> None:
    response = client.put(
        f"/v0/tenants/{tenant}/auth/link", json={"uuid": "a" * 5000, "token": "t" * 30}
    )
    assert response.status_code == 401, response.text
    assert response.json()["message"] == "Invalid token"


def test_a_link_sign_in_of_a_tenant_requiring_mfa_answers_mfa_required(
    client, base_url, workspace
) -> None:
    """The link is a first factor: it is used up, and the answer is §1.5 — a
    first-factor token, never tokens."""
    tenant = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {
            "authentication": {
                "firstFactors": [{"channel": "email", "strategy": "link"}],
                "secondFactors": [{"channel": "authenticator", "strategy": "totp"}],
            },
            "mfa": {"policy": "all"},
        },
        name="MFA for all",
    )
    sent = client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": unique_email("mfa")})
    assert sent.status_code == 200, sent.text
    params = link_params(sent.json()["result"]["link"])
    body = {"uuid": params["uuid"], "token": params["token"]}
    answer = client.put(f"/v0/tenants/{tenant}/auth/link", json=body)
    assert answer.status_code == 200, answer.text
    mfa = answer.json()
    assert mfa["message"] == "MFA required" and "tokens" not in mfa
    assert mfa["authentication"]["firstFactor"] == {"strategy": "link", "channel": "email"}
    assert mfa["authentication"]["secondFactors"] == [
        {
            "strategy": "totp",
            "channel": "authenticator",
            "isConfiguredByUser": False,
            "isPreferredByUser": False,
        }
    ]
    again = client.put(f"/v0/tenants/{tenant}/auth/link", json=body)
    assert again.status_code == 401, again.text


# ------------------------------------------------- bad links count per IP (issue 8 item 10)


@pytest.fixture
def neighbour(base_url: str, request: pytest.FixtureRequest):
    """The victim's own browser: another loopback address than the test's `client`."""
    address = loopback_address(request.node.nodeid + "#victim")
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=base_url, timeout=30, transport=transport) as http:
        yield http


def test_bad_links_naming_a_victim_lock_out_the_sender_not_the_victim(
    client, neighbour, base_url, workspace
) -> None:
    """A uuid is public (emailed links, ID tokens): bad tokens sent with it from one IP
    are counted against that IP (`authFailuresPerIp`), and the victim's own links, from
    another address, still work, for log-in and for reset alike."""
    tenant = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"rateLimits": {"authFailuresPerIp": {"limit": 5, "windowSeconds": 3600}}},
    )
    email = unique_email("victim")
    victim_uuid = sign_up(neighbour, tenant, email)["userUuid"]
    statuses = []
    for path in ("auth/link", "auth/reset") * 6:
        body = {"uuid": victim_uuid, "token": str(uuid.uuid4()), "password": "Guessing-123"}
        statuses.append(client.put(f"/v0/tenants/{tenant}/{path}", json=body).status_code)
    assert statuses == [401] * 5 + [429] * 7
    # The victim, from their own address, logs in by link and resets as usual.
    link = _send(neighbour, tenant, email=email)["result"]["link"]
    signed_in = _redeem(neighbour, tenant, link)
    assert signed_in.status_code == 200, signed_in.text
    sent = neighbour.post(f"/v0/tenants/{tenant}/auth/reset/link", json={"email": email})
    params = link_params(sent.json()["result"]["link"])
    reset = neighbour.put(
        f"/v0/tenants/{tenant}/auth/reset", json={**params, "password": "A-new-password-42"}
    )
    assert reset.status_code == 200, reset.text
