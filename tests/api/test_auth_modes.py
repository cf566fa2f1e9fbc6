"""Live mode by origin (api-client §0.6): live domains, secure cookies, real sends.

The tenant here exists only in live mode (created with the live admin key), so a
request that lands in test mode cannot even find it.
"""

from __future__ import annotations

import uuid

import pytest
from authkit import (
    PASSWORD,
    claims,
    error,
    link_params,
    new_tenant,
    tokens,
    unique_email,
    unique_phone,
)


@pytest.fixture(scope="module")
def domain() -> str:
    return f"{uuid.uuid4().hex[:10]}.example.com"


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace, domain: str) -> str:
    return new_tenant(
        base_url,
        workspace.key("live", "admin"),
        {"liveDomains": [{"domain": domain}]},
        name="Live tests",
    )


@pytest.fixture
def live(domain: str) -> dict[str, str]:
    return {"Origin": f"https://app.{domain}"}


def test_live_origin_signs_up_in_live_mode(client, tenant, live, domain) -> None:
    email = unique_email("live")
    response = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": email, "password": PASSWORD},
        headers=live,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "live"
    for kind in ("access", "id", "refresh"):
        assert body["tokens"][kind]["cookieOptions"]["secure"] is True
        assert claims(body["tokens"][kind]["value"])["mode"] == "live"
    welcome = client.get("/_local/outbox", params={"to": email}).json()
    assert len(welcome) == 1 and welcome[0]["channel"] == "email"
    assert f"https://app.{domain}/login?uuid=" in welcome[0]["text"]
    assert "type=welcome" in welcome[0]["text"]


def test_x_origin_wins_and_subdomains_match(client, tenant, domain) -> None:
    headers = {"Origin": "http://localhost:3000", "x-origin": f"https://{domain}"}
    body = {"email": unique_email(), "password": PASSWORD, "options": {"noSignupEmail": True}}
    response = client.post(f"/v0/tenants/{tenant}/auth/create", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["mode"] == "live"


@pytest.mark.parametrize(
    "origin",
    [
        "http://app.{d}",
        "https://app.{d}.evil.com",
        "https://notmy{d}",
        None,
        "http://localhost:3000",
    ],
)
def test_other_origins_are_test_mode(client, tenant, domain, origin) -> None:
    headers = {"Origin": origin.format(d=domain)} if origin else None
    response = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": unique_email(), "password": PASSWORD},
        headers=headers,
    )
    # A live-only tenant does not exist in test mode: nothing of live mode is reachable.
    error(response, 404, "Tenant not found")


def test_reserved_passwords_are_refused_in_live_mode(client, tenant, live) -> None:
    response = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": unique_email(), "password": "password"},
        headers=live,
    )
    error(response, 400)


def test_live_link_is_emailed_not_returned(client, tenant, live, domain) -> None:
    email = unique_email("live-link")
    response = client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": email}, headers=live)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert set(result) == {"email", "submittedAt", "messageId"}
    sent = client.get("/_local/outbox", params={"to": email}).json()
    assert len(sent) == 1
    link = next(w for w in sent[0]["text"].split() if w.startswith("https://"))
    params = link_params(link)
    signed_in = client.put(
        f"/v0/tenants/{tenant}/auth/link",
        json={"uuid": params["uuid"], "token": params["token"]},
        headers=live,
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["mode"] == "live"


def test_live_code_is_texted_not_returned(client, tenant, live) -> None:
    phone = unique_phone()
    response = client.post(
        f"/v0/tenants/{tenant}/auth/code",
        json={"channel": "sms", "phoneNumber": phone},
        headers=live,
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert "verificationCode" not in result and result["phoneNumber"] == phone
    texts = client.get("/_local/outbox", params={"to": phone, "channel": "sms"}).json()
    assert len(texts) == 1
    code = next(
        w for w in texts[0]["text"].replace(".", " ").split() if w.isdigit() and len(w) == 6
    )
    signed_in = client.put(
        f"/v0/tenants/{tenant}/auth/code",
        json={"channel": "sms", "phoneNumber": phone, "verificationCode": code},
        headers=live,
    )
    assert signed_in.status_code == 200, signed_in.text


def test_live_reset_email(client, tenant, live) -> None:
    email = unique_email("live-reset")
    client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": email, "password": PASSWORD, "options": {"noSignupEmail": True}},
        headers=live,
    )
    response = client.post(
        f"/v0/tenants/{tenant}/auth/reset/link", json={"email": email}, headers=live
    )
    assert response.status_code == 200
    assert "link" not in response.json()["result"]
    sent = client.get("/_local/outbox", params={"to": email}).json()
    assert len(sent) == 1 and "/reset?uuid=" in sent[0]["text"]
    stranger = unique_email("live-stranger")
    answer = client.post(
        f"/v0/tenants/{tenant}/auth/reset/link", json={"email": stranger}, headers=live
    )
    assert answer.status_code == 200 and set(answer.json()["result"]) == set(
        response.json()["result"]
    )
    assert client.get("/_local/outbox", params={"to": stranger}).json() == []


def test_live_tokens_work_on_token_endpoints_regardless_of_origin(client, tenant, live) -> None:
    response = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": unique_email(), "password": PASSWORD, "options": {"noSignupEmail": True}},
        headers=live,
    )
    access, _, refresh = tokens(response.json())
    me = client.get("/v0/self", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200 and me.json()["mode"] == "live"
    refreshed = client.get("/v0/auth/refresh", headers={"Authorization": f"Bearer {refresh}"})
    assert refreshed.status_code == 200 and refreshed.json()["mode"] == "live"
