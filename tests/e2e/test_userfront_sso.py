"""SSO with the real `@userfront/core` (docs/sso.md): `signup({ method: "google" })` and
`login({ method: "custom", providerId })` navigate to the start URL; the provider
round-trip (a real OIDC provider, `oidc-provider-mock`, configured as `custom` and, via
the test-only endpoint override, as `google`) is followed like a browser; back on the
login page the client's link log-in reads `uuid`/`token` from the URL and signs in."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import oidc_provider_mock
import pytest
from test_userfront_core import signed_in


@pytest.fixture(scope="module")
def idp() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def _provider_round_trip(start_url: str, idp: str, sub: str, page_origin: str) -> str:
    """Start URL → provider consent (as `sub`) → callback → the page URL it lands on."""
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        start = http.get(start_url)
        assert start.status_code == 302, start.text
        consent = http.post(start.headers["location"], data={"sub": sub})
        assert consent.status_code == 302, consent.text
        back = http.get(consent.headers["location"])
        assert back.status_code == 302, back.text
    landing = back.headers["location"]
    assert landing.startswith(f"{page_origin}/login?"), landing
    return landing


@pytest.mark.parametrize(
    ("action", "method", "provider_id"),
    [("signup", "google", None), ("login", "custom", "local")],
)
def test_sso_sign_on_through_the_client(
    api: Any,
    workspace: Any,
    browser: Any,
    idp: str,
    action: str,
    method: str,
    provider_id: str | None,
) -> None:
    key = workspace.key("test", "admin")
    tenant = api("POST", "/v0/tenants", key, json={"name": "SSO e2e"}).json()["tenantId"]
    path = f"/v0/tenants/{tenant}/sso/" + (f"custom/{provider_id}" if provider_id else method)
    settings: dict[str, Any] = {"enabled": True, "clientId": "e2e", "clientSecret": "e2e-secret"}
    settings |= {"issuer": idp} if provider_id else {"endpoints": {"issuer": idp}}
    saved = api("PUT", path, key, json=settings)
    assert saved.status_code == 200, saved.text
    browser = dataclasses.replace(browser, tenant_id=tenant)
    email = f"e2e-sso-{uuid.uuid4().hex[:12]}@example.com"
    claims = {"email": email, "email_verified": True, "name": "E2E"}
    assert httpx.put(f"{idp}/users/{quote(email)}", json=claims).status_code == 204

    started = browser.run(
        "sso_start", action=action, method=method, providerId=provider_id, redirect="/app"
    )
    assert started.error is None, str(started)
    [navigation] = started.navigated_to
    url = httpx.URL(navigation)
    assert url.path == f"/v0/auth/{method}/login"
    assert url.params["tenant_id"] == tenant
    assert url.params["origin"] == browser.page_origin
    assert url.params["redirect"] == "/app"
    assert url.params.get("provider_id") == provider_id

    landing = httpx.URL(_provider_round_trip(navigation, idp, email, browser.page_origin))
    assert landing.params["type"] == "sso" and landing.params["redirect"] == "/app"
    finished = browser.run("sso_finish", page=f"/login?{landing.query.decode()}")
    signed_in(finished, browser)
    assert finished.user["email"] == email
    assert finished.navigated_to[-1] == browser.page_url("/app")
