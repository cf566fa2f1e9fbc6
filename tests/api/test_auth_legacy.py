"""The legacy short paths (api-client §0.1, §14.2): the tenant comes from the body."""

from __future__ import annotations

import pytest
from authkit import (
    PASSWORD,
    bearer,
    error,
    link_params,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
    unique_phone,
)

LEGACY = [
    ("POST", "/v0/auth/create"),
    ("POST", "/v0/auth/basic"),
    ("POST", "/v0/auth/link"),
    ("PUT", "/v0/auth/link"),
    ("POST", "/v0/auth/code"),
    ("PUT", "/v0/auth/code"),
    ("POST", "/v0/auth/reset/link"),
    ("PUT", "/v0/auth/reset"),
    ("POST", "/v0/auth/verify/email"),
    ("POST", "/v0/auth/verify/link"),
    ("POST", "/v0/auth/verify/phone"),
]


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="Legacy tests")


@pytest.mark.parametrize(("method", "path"), LEGACY)
def test_legacy_paths_need_a_tenant_id(client, method, path) -> None:
    error(
        client.request(method, path, json={"email": "a@example.com"}), 400, "tenantId is required"
    )


@pytest.mark.parametrize(
    "path",
    ["auth/create", "auth/basic", "auth/link", "auth/code", "auth/reset/link", "auth/verify/email"],
)
def test_path_and_body_tenants_must_agree(client, tenant, path) -> None:
    response = client.post(f"/v0/tenants/{tenant}/{path}", json={"tenantId": "zzzzzzzz"})
    error(response, 400, "tenantId does not match")


def test_legacy_sign_up_and_log_in(client, tenant) -> None:
    email = unique_email("legacy")
    created = client.post(
        "/v0/auth/create", json={"email": email, "password": PASSWORD, "tenantId": tenant}
    )
    assert created.status_code == 200, created.text
    assert created.json()["tenantId"] == tenant
    logged_in = client.post(
        "/v0/auth/basic", json={"emailOrUsername": email, "password": PASSWORD, "tenantId": tenant}
    )
    assert logged_in.status_code == 200, logged_in.text
    error(
        client.post(
            "/v0/auth/create", json={"email": email, "password": PASSWORD, "tenantId": "zzzzzzzz"}
        ),
        404,
    )


def test_legacy_link_flow(client, tenant) -> None:
    email = unique_email("legacy-link")
    sent = client.post("/v0/auth/link", json={"email": email, "tenantId": tenant})
    assert sent.status_code == 200, sent.text
    params = link_params(sent.json()["result"]["link"])
    redeemed = client.put(
        "/v0/auth/link", json={"uuid": params["uuid"], "token": params["token"], "tenantId": tenant}
    )
    assert redeemed.status_code == 200, redeemed.text


def test_legacy_code_flow(client, tenant) -> None:
    phone = unique_phone()
    sent = client.post(
        "/v0/auth/code", json={"channel": "sms", "phoneNumber": phone, "tenantId": tenant}
    )
    assert sent.status_code == 200, sent.text
    code = sent.json()["result"]["verificationCode"]
    verified = client.put(
        "/v0/auth/code",
        json={"channel": "sms", "phoneNumber": phone, "verificationCode": code, "tenantId": tenant},
    )
    assert verified.status_code == 200, verified.text


def test_legacy_reset_flow(client, tenant) -> None:
    email = unique_email("legacy-reset")
    sign_up(client, tenant, email)
    sent = client.post("/v0/auth/reset/link", json={"email": email, "tenantId": tenant})
    params = link_params(sent.json()["result"]["link"])
    reset = client.put(
        "/v0/auth/reset",
        json={**params, "password": "legacy-new-password-1", "tenantId": tenant},
    )
    assert reset.status_code == 200, reset.text


@pytest.mark.parametrize("path", ["/v0/auth/verify/email", "/v0/auth/verify/link"])
def test_legacy_verify_email(client, tenant, path) -> None:
    email = unique_email("legacy-verify")
    sign_up(client, tenant, email)
    response = client.post(path, json={"email": email, "tenantId": tenant})
    assert response.status_code == 200, response.text
    assert link_params(response.json()["result"]["link"])["type"] == "verify"


def test_legacy_verify_with_a_token_may_leave_the_tenant_to_it(client, tenant) -> None:
    access = tokens(sign_up(client, tenant))[0]
    response = client.post("/v0/auth/verify/email", json={}, headers=bearer(access))
    assert response.status_code == 200, response.text


def test_legacy_verify_phone(client, tenant) -> None:
    access = tokens(sign_up(client, tenant))[0]
    response = client.post(
        "/v0/auth/verify/phone",
        json={"phoneNumber": unique_phone(), "tenantId": tenant},
        headers=bearer(access),
    )
    assert response.status_code == 200, response.text


def test_legacy_update_password_takes_the_tenant_from_the_token(client, tenant) -> None:
    access = tokens(sign_up(client, tenant))[0]
    response = client.put(
        "/v0/auth/basic",
        json={"password": "legacy-changed-1", "existingPassword": PASSWORD},
        headers=bearer(access),
    )
    assert response.status_code == 200, response.text
