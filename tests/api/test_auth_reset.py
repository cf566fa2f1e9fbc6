"""Password reset: send the link (api-client §8.1) and reset with it (§8.2)."""

from __future__ import annotations

import pytest
from authkit import (
    PASSWORD,
    bearer,
    error,
    link_params,
    log_in,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
)

NEW_PASSWORD = "brand-new-password-42"


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(
        base_url, workspace.key("test", "admin"), {"resetPasswordPath": "/forgot"}, name="Reset"
    )


def _send(client, tenant: str, email: str) -> dict:
    response = client.post(f"/v0/tenants/{tenant}/auth/reset/link", json={"email": email})
    assert response.status_code == 200, response.text
    return response.json()


def _reset(client, tenant: str, link: str, password: str = NEW_PASSWORD):
    params = link_params(link)
    body = {"uuid": params["uuid"], "token": params["token"], "password": password}
    return client.put(f"/v0/tenants/{tenant}/auth/reset", json=body)


def test_reset_signs_in_and_ends_every_other_session(client, tenant) -> None:
    email = unique_email("reset")
    old_access, _, old_refresh = tokens(sign_up(client, tenant, email))
    link = _send(client, tenant, email)["result"]["link"]
    assert link.startswith("http://localhost:3000/forgot?")
    assert "type" not in link_params(link)
    response = _reset(client, tenant, link)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "OK" and body["redirectTo"] == "/dashboard"
    assert body["isEmailConfirmed"] is True
    assert "firstFactorToken" not in body
    error(log_in(client, tenant, email), 400, "Incorrect email or password")
    assert log_in(client, tenant, email, NEW_PASSWORD).status_code == 200
    access = tokens(body)[0]
    assert client.get("/v0/self", headers=bearer(access)).status_code == 200
    error(client.get("/v0/self", headers=bearer(old_access)), 401)
    error(client.get("/v0/auth/refresh", headers=bearer(old_refresh)), 401, "Invalid token")


def test_unknown_address_gets_the_same_answer(client, tenant) -> None:
    body = _send(client, tenant, unique_email("nobody"))
    assert body == {"message": "OK", "result": {"email": body["result"]["email"]}}


def test_reset_links_are_single_use_and_replace_each_other(client, tenant) -> None:
    email = unique_email("single")
    sign_up(client, tenant, email)
    first = _send(client, tenant, email)["result"]["link"]
    second = _send(client, tenant, email)["result"]["link"]
    error(_reset(client, tenant, first), 401, "Invalid token")
    assert _reset(client, tenant, second).status_code == 200
    error(_reset(client, tenant, second, "another-password-42"), 401, "Invalid token")


def test_a_rejected_password_does_not_burn_the_link(client, tenant) -> None:
    email = unique_email("policy")
    sign_up(client, tenant, email)
    link = _send(client, tenant, email)["result"]["link"]
    error(_reset(client, tenant, link, "short"), 400)
    assert _reset(client, tenant, link).status_code == 200


def test_login_links_do_not_reset_passwords(client, tenant) -> None:
    email = unique_email("login-link")
    sign_up(client, tenant, email)
    sent = client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": email}).json()
    error(_reset(client, tenant, sent["result"]["link"]), 401, "Invalid token")


def test_reset_sets_a_password_for_a_passwordless_user(client, tenant) -> None:
    email = unique_email("nopw")
    client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": email})
    link = _send(client, tenant, email)["result"]["link"]
    assert _reset(client, tenant, link).status_code == 200
    assert log_in(client, tenant, email, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"uuid": "u", "token": "t"}, {"uuid": "u", "password": PASSWORD}, {"password": "p"}],
)
def test_reset_requires_all_three_fields(client, tenant, body) -> None:
    response = client.put(f"/v0/tenants/{tenant}/auth/reset", json=body)
    error(response, 400, "token, uuid and password are required")


def test_send_reset_link_validation(client, tenant) -> None:
    path = f"/v0/tenants/{tenant}/auth/reset/link"
    error(client.post(path, json={}), 400, "email is required")
    error(client.post(path, json={"email": "nope"}), 400, "Email format is invalid")
