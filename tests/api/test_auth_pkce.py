"""PKCE for native apps (api-client §1.6, §7.11): code_challenge on sign-in, then exchange."""

from __future__ import annotations

import base64
import hashlib
import secrets

import pytest
from authkit import PASSWORD, bearer, error, link_params, new_tenant, sign_up, tokens, unique_email


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="PKCE tests")


def pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _exchange(client, tenant: str, code: str, verifier: str):
    return client.post(
        f"/v0/tenants/{tenant}/auth/pkce",
        json={"authorizationCode": code, "codeVerifier": verifier},
    )


def _password_login(client, tenant: str, email: str, challenge: str):
    return client.post(
        f"/v0/tenants/{tenant}/auth/basic",
        params={"code_challenge": challenge},
        json={"emailOrUsername": email, "password": PASSWORD},
    )


def test_login_with_a_challenge_answers_an_authorization_code(client, tenant) -> None:
    email = unique_email("pkce")
    sign_up(client, tenant, email)
    verifier, challenge = pair()
    response = _password_login(client, tenant, email, challenge)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"message", "authorizationCode", "redirectTo"}
    assert body["message"] == "PKCE required"
    exchanged = _exchange(client, tenant, body["authorizationCode"], verifier)
    assert exchanged.status_code == 200, exchanged.text
    data = exchanged.json()
    assert data["message"] == "OK" and "redirectTo" not in data
    assert "firstFactorToken" not in data and data["email"] == email
    access, _, refresh = tokens(data)
    assert client.get("/v0/self", headers=bearer(access)).status_code == 200
    assert client.get("/v0/auth/refresh", headers=bearer(refresh)).status_code == 200
    # Single use, whatever the verifier.
    error(_exchange(client, tenant, body["authorizationCode"], verifier), 401, "Invalid token")


def test_a_wrong_verifier_burns_the_code(client, tenant) -> None:
    email = unique_email("pkce-wrong")
    sign_up(client, tenant, email)
    verifier, challenge = pair()
    code = _password_login(client, tenant, email, challenge).json()["authorizationCode"]
    error(_exchange(client, tenant, code, "not-the-verifier-" + "x" * 40), 401, "Invalid token")
    error(_exchange(client, tenant, code, verifier), 401, "Invalid token")


def test_sign_up_and_link_login_honour_the_challenge(client, tenant) -> None:
    verifier, challenge = pair()
    created = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        params={"code_challenge": challenge},
        json={"email": unique_email(), "password": PASSWORD},
    )
    assert created.status_code == 200, created.text
    assert created.json()["message"] == "PKCE required"
    assert (
        _exchange(client, tenant, created.json()["authorizationCode"], verifier).status_code == 200
    )
    link = client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": unique_email()})
    params = link_params(link.json()["result"]["link"])
    verifier, challenge = pair()
    redeemed = client.put(
        f"/v0/tenants/{tenant}/auth/link",
        params={"code_challenge": challenge},
        json={"uuid": params["uuid"], "token": params["token"]},
    )
    assert redeemed.json()["message"] == "PKCE required"
    assert (
        _exchange(client, tenant, redeemed.json()["authorizationCode"], verifier).status_code == 200
    )


def test_exchange_validation(client, tenant) -> None:
    path = f"/v0/tenants/{tenant}/auth/pkce"
    message = "authorizationCode and codeVerifier are required"
    error(client.post(path, json={}), 400, message)
    error(client.post(path, json={"authorizationCode": "abc"}), 400, message)
    error(_exchange(client, tenant, "unknown-code", "v" * 43), 401, "Invalid token")
    error(
        client.post(
            path, json={"authorizationCode": "a", "codeVerifier": "b", "tenantId": "zzzzzzzz"}
        ),
        400,
        "tenantId does not match",
    )


def test_a_malformed_challenge_is_refused(client, tenant) -> None:
    email = unique_email("pkce-bad")
    sign_up(client, tenant, email)
    error(_password_login(client, tenant, email, "too-short"), 400)
