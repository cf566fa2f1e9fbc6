"""Verify email (api-client §9.9), change email (§9.4) and verify phone (§9.10)."""

from __future__ import annotations

import pytest
from authkit import (
    bearer,
    claims,
    error,
    link_params,
    log_in,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
    unique_phone,
)


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="Verify tests")


def _verify_email(client, tenant: str, token: str | None = None, **body):
    headers = bearer(token) if token else None
    return client.post(f"/v0/tenants/{tenant}/auth/verify/email", json=body, headers=headers)


def _redeem(client, tenant: str, link: str):
    params = link_params(link)
    return client.put(
        f"/v0/tenants/{tenant}/auth/link", json={"uuid": params["uuid"], "token": params["token"]}
    )


def test_verify_email_without_a_token(client, tenant) -> None:
    email = unique_email("verify")
    sign_up(client, tenant, email)
    response = _verify_email(client, tenant, email=email)
    assert response.status_code == 200, response.text
    link = response.json()["result"]["link"]
    assert link_params(link)["type"] == "verify"
    signed_in = _redeem(client, tenant, link)
    assert signed_in.status_code == 200
    assert signed_in.json()["isEmailConfirmed"] is True
    unknown = _verify_email(client, tenant, email=unique_email("unknown"))
    assert unknown.status_code == 200
    assert "link" not in unknown.json()["result"]


def test_change_email_takes_effect_when_the_link_is_used(client, tenant) -> None:
    old = unique_email("old")
    new = unique_email("new")
    access = tokens(sign_up(client, tenant, old))[0]
    response = _verify_email(client, tenant, access, email=new)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["email"] == new
    # Nothing changes until the new address proves itself.
    assert client.get("/v0/self", headers=bearer(access)).json()["email"] == old
    signed_in = _redeem(client, tenant, response.json()["result"]["link"])
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["email"] == new
    assert claims(tokens(signed_in.json())[1])["email"] == new
    assert log_in(client, tenant, new).status_code == 200
    error(log_in(client, tenant, old), 400)


def test_change_to_a_taken_email(client, tenant) -> None:
    taken = unique_email("taken")
    sign_up(client, tenant, taken)
    access = tokens(sign_up(client, tenant))[0]
    error(_verify_email(client, tenant, access, email=taken), 400, "Email exists")


def test_change_email_loses_the_race_when_the_address_is_taken_meanwhile(client, tenant) -> None:
    new = unique_email("race")
    access = tokens(sign_up(client, tenant))[0]
    link = _verify_email(client, tenant, access, email=new).json()["result"]["link"]
    sign_up(client, tenant, new)
    error(_redeem(client, tenant, link), 400, "Email exists")


def test_verify_email_with_a_token_checks_the_caller(client, tenant, workspace) -> None:
    body = sign_up(client, tenant)
    access = tokens(body)[0]
    current = _verify_email(client, tenant, access)
    assert current.status_code == 200
    assert current.json()["result"]["email"] == body["email"]
    error(_verify_email(client, tenant, access, userId=body["userId"] + 1000), 400)
    error(_verify_email(client, tenant, "garbage", email=body["email"]), 401)
    other = client.post(
        f"/v0/tenants/{workspace.tenant_id}/auth/verify/email", json={}, headers=bearer(access)
    )
    error(other, 403, "Forbidden")


def test_verify_phone_with_a_token_adds_the_number(client, tenant) -> None:
    email = unique_email("phone")
    access = tokens(sign_up(client, tenant, email))[0]
    phone = unique_phone()
    response = client.post(
        f"/v0/tenants/{tenant}/auth/verify/phone",
        json={"phoneNumber": phone},
        headers=bearer(access),
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["channel"] == "sms" and result["phoneNumber"] == phone
    assert client.get("/v0/self", headers=bearer(access)).json()["phoneNumber"] is None
    signed_in = client.put(
        f"/v0/tenants/{tenant}/auth/code",
        json={
            "channel": "sms",
            "phoneNumber": phone,
            "verificationCode": result["verificationCode"],
        },
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["phoneNumber"] == phone
    assert signed_in.json()["isPhoneNumberConfirmed"] is True
    assert signed_in.json()["email"] == email


def test_verify_phone_rules(client, tenant) -> None:
    owner_phone = unique_phone()
    sent = client.post(
        f"/v0/tenants/{tenant}/auth/code", json={"channel": "sms", "phoneNumber": owner_phone}
    ).json()
    assert sent["result"]["verificationCode"]
    access = tokens(sign_up(client, tenant))[0]
    path = f"/v0/tenants/{tenant}/auth/verify/phone"
    taken = client.post(path, json={"phoneNumber": owner_phone}, headers=bearer(access))
    error(taken, 400, "Phone number exists")
    error(
        client.post(path, json={"phoneNumber": "12345"}),
        400,
        "Phone number must be in E.164 format.",
    )
    error(client.post(path, json={}), 400, "phoneNumber is required")
    # Without a token only an existing user's own number gets a code.
    known = client.post(path, json={"phoneNumber": owner_phone})
    assert known.status_code == 200 and "verificationCode" in known.json()["result"]
    unknown = client.post(path, json={"phoneNumber": unique_phone()})
    assert unknown.status_code == 200 and "verificationCode" not in unknown.json()["result"]
