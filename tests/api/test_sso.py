"""SSO (api-client §6.4, §6.5, §7.10; concepts §9.2; docs/sso.md) against a real OIDC
provider: `oidc-provider-mock` (Authlib's authorization server) runs in a thread of
this process, reached by the runtime over loopback (test mode; the local runtime sets
the test-only endpoint override and lets test mode reach loopback).

The test is the browser: it follows each 302 by hand (the provider's consent step is
its scriptable form: POST `sub`, or `action=deny`), so every hop can be checked or
tampered with. One tenant serves the module; each test uses its own subjects/emails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import oidc_provider_mock
import pytest
from authkit import bearer, claims, new_tenant, sign_up, tokens, unique_email
from conformance import conforms

PAGE = "http://localhost:5173"
SECRET = "client-secret-1f2e"


@pytest.fixture(scope="module")
def idp() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def other_idp() -> Iterator[str]:
    """A second provider: other signing keys, another issuer."""
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def admin_key(workspace: Any) -> str:
    return str(workspace.key("test", "admin"))


def _put(base_url: str, key: str, path: str, body: dict[str, Any]) -> httpx.Response:
    response = httpx.put(f"{base_url}{path}", json=body, headers=bearer(key), timeout=30)
    conforms(response)  # the answer is what docs/openapi.json declares
    return response


@pytest.fixture(scope="module")
def tenant(base_url: str, admin_key: str, idp: str, other_idp: str) -> str:
    tenant_id = new_tenant(
        base_url, admin_key, name="SSO", settings={"afterSignupPath": "/welcome"}
    )
    configs = {
        "/sso/custom/mock": {
            "enabled": True,
            "clientId": "portcullis",
            "clientSecret": SECRET,
            "issuer": idp,
            "name": "Mock",
        },
        "/sso/google": {
            "enabled": True,
            "clientId": "google-client",
            "clientSecret": SECRET,
            "endpoints": {"issuer": idp},
        },
        "/sso/github": {
            "enabled": True,
            "clientId": "github-client",
            "clientSecret": SECRET,
            "scopes": ["openid", "email", "profile"],
            "claimMapping": {"subject": "sub", "emailVerified": "email_verified"},
            "endpoints": {
                "authorizationUrl": f"{idp}/oauth2/authorize",
                "tokenUrl": f"{idp}/oauth2/token",
                "userInfoUrl": f"{idp}/userinfo",
                "emailsUrl": f"{idp}/userinfo",
            },
        },
        # The right issuer, the keys of another provider: every signature is wrong.
        "/sso/custom/wrongkeys": {
            "enabled": True,
            "clientId": "portcullis",
            "clientSecret": SECRET,
            "issuer": idp,
            "jwksUrl": f"{other_idp}/jwks",
        },
        # The endpoints of one provider, the issuer expected of another.
        "/sso/custom/wrongissuer": {
            "enabled": True,
            "clientId": "portcullis",
            "clientSecret": SECRET,
            "issuer": other_idp,
            "authorizationUrl": f"{idp}/oauth2/authorize",
            "tokenUrl": f"{idp}/oauth2/token",
            "jwksUrl": f"{idp}/jwks",
        },
    }
    for path, body in configs.items():
        saved = _put(base_url, admin_key, f"/v0/tenants/{tenant_id}{path}", body)
        assert saved.status_code == 200, saved.text
    return tenant_id


def _user(idp: str, sub: str, **claims: Any) -> None:
    response = httpx.put(f"{idp}/users/{quote(sub)}", json=claims, timeout=10)
    assert response.status_code == 204, response.text


def _start(
    browser: httpx.Client, tenant: str, provider: str = "custom", **params: Any
) -> httpx.Response:
    query = {"tenant_id": tenant, "origin": PAGE, **params}
    if provider == "custom":
        query.setdefault("provider_id", "mock")
    return browser.get(f"/v0/auth/{provider}/login", params=query)


def _consent(response: httpx.Response, sub: str | None, tamper: Any = None) -> httpx.Response:
    """The provider's consent form, answered as user `sub` (None: the user denies)."""
    assert response.status_code == 302, response.text
    conforms(response)
    url = httpx.URL(response.headers["location"])
    if tamper:
        url = tamper(url)
    form = {"sub": sub} if sub else {"action": "deny"}
    return httpx.post(str(url), data=form, timeout=10)


def _back(browser: httpx.Client, from_provider: httpx.Response) -> httpx.Response:
    assert from_provider.status_code == 302, from_provider.text
    return browser.get(from_provider.headers["location"])


def _landing(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    conforms(response)  # the callback's redirect back to the app
    url = httpx.URL(response.headers["location"])
    assert str(url).startswith(f"{PAGE}/"), url
    return dict(url.params)


def _sign_on(
    browser: httpx.Client, tenant: str, sub: str, provider: str = "custom", **params: Any
) -> dict[str, str]:
    return _landing(_back(browser, _consent(_start(browser, tenant, provider, **params), sub)))


def _exchange(client: httpx.Client, tenant: str, landed: dict[str, str]) -> httpx.Response:
    return client.put(
        f"/v0/tenants/{tenant}/auth/link",
        json={"uuid": landed["uuid"], "token": landed["token"]},
        headers={"origin": PAGE},
    )


@pytest.fixture
def browser(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as http:
        yield http


def test_new_user_with_custom_data_then_returning_user(
    browser: httpx.Client, client: httpx.Client, tenant: str, idp: str, admin_key: str
) -> None:
    email = unique_email("sso-new")
    _user(idp, f"new-{email}", email=email, email_verified=True, name="Ada Lovelace")
    start = _start(browser, tenant, data=json.dumps({"plan": "pro"}), redirect="/dashboard")
    authorize = httpx.URL(start.headers["location"])
    assert authorize.params["code_challenge_method"] == "S256"
    assert authorize.params["redirect_uri"].endswith("/v0/auth/custom/login")
    assert authorize.params["nonce"] and len(authorize.params["state"]) >= 43
    landed = _landing(_back(browser, _consent(start, f"new-{email}")))
    assert landed["type"] == "sso" and landed["redirect"] == "/dashboard"
    first = _exchange(client, tenant, landed)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["tokens"]["access"]["value"]
    assert body["redirectTo"] == "/welcome"  # after-signup path
    user = client.get(
        f"/v0/tenants/{tenant}/users/{landed['uuid']}", headers=bearer(admin_key)
    ).json()
    assert user["email"] == email and user["data"] == {"plan": "pro"}
    assert user["name"] == "Ada Lovelace" and user["isEmailConfirmed"] is True
    # The link is single use.
    assert _exchange(client, tenant, landed).status_code == 401

    again = _sign_on(browser, tenant, f"new-{email}", data=json.dumps({"plan": "ignored"}))
    assert again["uuid"] == landed["uuid"]
    second = _exchange(client, tenant, again)
    assert second.status_code == 200, second.text
    assert second.json()["redirectTo"] == "/dashboard"  # after-login path
    listed = client.get(
        f"/v0/tenants/{tenant}/users/{landed['uuid']}/sso", headers=bearer(admin_key)
    ).json()
    assert listed["identities"] == [
        {
            "provider": "custom",
            "providerId": "mock",
            "subject": f"new-{email}",
            "linkedAt": listed["identities"][0]["linkedAt"],
        }
    ]
    # The server user object carries them too (extension `ssoIdentities`).
    read = client.get(f"/v0/tenants/{tenant}/users/{landed['uuid']}", headers=bearer(admin_key))
    assert read.json()["ssoIdentities"] == listed["identities"]


def test_existing_password_user_with_verified_email_is_linked(
    browser: httpx.Client, client: httpx.Client, tenant: str, idp: str, admin_key: str
) -> None:
    email = unique_email("sso-link")
    created = sign_up(client, tenant, email)
    uuid = claims(tokens(created)[1])["userUuid"]
    _user(idp, f"google-{email}", email=email, email_verified=True)
    landed = _sign_on(browser, tenant, f"google-{email}", provider="google")
    assert landed["uuid"] == uuid  # the password user, not a new one
    assert _exchange(client, tenant, landed).status_code == 200
    found = client.get(
        f"/v0/tenants/{tenant}/users", params={"search": email}, headers=bearer(admin_key)
    ).json()
    assert found["totalCount"] == 1
    linked = client.get(f"/v0/tenants/{tenant}/users/{uuid}/sso", headers=bearer(admin_key))
    conforms(linked)
    assert [i["provider"] for i in linked.json()["identities"]] == ["google"]
    # Unlinked by an admin: the identity is gone from the user.
    gone = client.delete(
        f"/v0/tenants/{tenant}/users/{landed['uuid']}/sso/google/{quote('google-' + email)}",
        headers=bearer(admin_key),
    )
    assert gone.status_code == 200, gone.text
    conforms(gone)
    assert gone.json()["identities"] == []
    read = client.get(f"/v0/tenants/{tenant}/users/{uuid}", headers=bearer(admin_key))
    assert read.json()["ssoIdentities"] == []


def test_unverified_email_in_use_is_refused(
    browser: httpx.Client, client: httpx.Client, tenant: str, idp: str
) -> None:
    email = unique_email("sso-taken")
    sign_up(client, tenant, email)
    _user(idp, f"gh-{email}", email=email, email_verified=False)
    assert _sign_on(browser, tenant, f"gh-{email}", provider="github") == {"error": "email_in_use"}


def test_unverified_email_unused_creates_an_unconfirmed_user(
    browser: httpx.Client, client: httpx.Client, tenant: str, idp: str, admin_key: str
) -> None:
    email = unique_email("sso-unverified")
    _user(idp, f"gh-{email}", email=email, email_verified=False)
    landed = _sign_on(browser, tenant, f"gh-{email}", provider="github")
    assert _exchange(client, tenant, landed).status_code == 200
    user = client.get(
        f"/v0/tenants/{tenant}/users/{landed['uuid']}", headers=bearer(admin_key)
    ).json()
    assert user["isEmailConfirmed"] is False


def test_replayed_and_tampered_state_are_refused(
    browser: httpx.Client, tenant: str, idp: str
) -> None:
    email = unique_email("sso-state")
    _user(idp, email, email=email, email_verified=True)
    from_provider = _consent(_start(browser, tenant), email)
    callback = httpx.URL(from_provider.headers["location"])
    tampered = callback.copy_set_param("state", callback.params["state"][:-2] + "xy")
    refused = browser.get(str(tampered))
    assert refused.status_code == 400 and refused.json()["message"] == "invalid_state"
    assert _landing(browser.get(str(callback)))["type"] == "sso"
    replayed = browser.get(str(callback))
    assert replayed.status_code == 400 and replayed.json()["message"] == "invalid_state"


def test_wrong_nonce_signature_and_issuer_are_refused(
    browser: httpx.Client, tenant: str, idp: str
) -> None:
    email = unique_email("sso-forged")
    _user(idp, email, email=email, email_verified=True)
    wrong_nonce = _consent(
        _start(browser, tenant), email, tamper=lambda u: u.copy_set_param("nonce", "forged")
    )
    assert _landing(_back(browser, wrong_nonce)) == {"error": "provider_error"}
    for provider_id in ("wrongkeys", "wrongissuer"):
        landed = _sign_on(browser, tenant, email, provider_id=provider_id)
        assert landed == {"error": "provider_error"}, provider_id


def test_provider_errors(browser: httpx.Client, tenant: str, idp: str) -> None:
    start = _start(browser, tenant)
    state = httpx.URL(start.headers["location"]).params["state"]
    denied = httpx.URL(_consent(start, None).headers["location"])
    assert denied.params["error"] == "access_denied"
    # The mock drops `state` from its error redirect (RFC 6749 §4.1.2.1 requires it):
    # with no state there is no page to return to, so the answer is a 400.
    stateless = browser.get(str(denied))
    assert stateless.status_code == 400 and stateless.json()["message"] == "invalid_state"
    # As a conforming provider sends it, the page gets `?error=access_denied`.
    conforming = browser.get(str(denied.copy_set_param("state", state)))
    assert _landing(conforming) == {"error": "access_denied"}
    email = unique_email("sso-badcode")
    _user(idp, email, email=email, email_verified=True)
    granted = _consent(_start(browser, tenant), email)
    bad_code = httpx.URL(granted.headers["location"]).copy_set_param("code", "not-a-code")
    assert _landing(browser.get(str(bad_code))) == {"error": "provider_error"}


def test_start_errors(browser: httpx.Client, tenant: str) -> None:
    assert browser.get("/v0/auth/google/login", params={"origin": PAGE}).status_code == 400
    assert browser.get("/v0/auth/google/login", params={"tenant_id": tenant}).status_code == 400
    no_id = browser.get("/v0/auth/custom/login", params={"tenant_id": tenant, "origin": PAGE})
    assert no_id.status_code == 400 and no_id.json()["message"] == "provider_id is required"
    for provider in ("apple", "twitter"):
        assert _start(browser, tenant, provider).status_code == 404
    bad = _start(browser, tenant, data="[1]")
    assert bad.status_code == 400 and bad.json()["message"] == "data must be a JSON object"
    off_site = _start(browser, tenant, redirect="https://evil.example/steal")
    assert off_site.status_code == 400


def test_settings_api_masks_secrets_and_mode_lists_providers(
    client: httpx.Client, tenant: str, admin_key: str, base_url: str
) -> None:
    read = client.get(f"/v0/tenants/{tenant}/sso/google", headers=bearer(admin_key))
    assert read.status_code == 200 and read.json()["clientSecret"] == "********"
    listed = client.get(f"/v0/tenants/{tenant}/sso", headers=bearer(admin_key))
    assert SECRET not in listed.text
    for answer in (read, listed):
        conforms(answer)
    refused = _put(base_url, admin_key, f"/v0/tenants/{tenant}/sso/linkedin", {"enabled": True})
    assert refused.status_code == 400 and "clientId" in refused.json()["message"]
    unknown = _put(base_url, admin_key, f"/v0/tenants/{tenant}/sso/myspace", {"enabled": True})
    assert unknown.status_code == 404
    mode = client.get(f"/v0/tenants/{tenant}/mode", headers={"origin": PAGE}).json()
    strategies = [f["strategy"] for f in mode["authentication"]["firstFactors"]]
    assert "google" in strategies and "github" in strategies
    assert "custom" not in strategies and "mock" not in strategies
    assert client.get(f"/v0/tenants/{tenant}/sso/google").status_code in (401, 403)


def test_live_mode_cannot_use_the_endpoint_override(
    base_url: str, workspace: Any, idp: str
) -> None:
    """The workspace itself, in live mode: the refusal writes nothing."""
    key = str(workspace.key("live", "admin"))
    refused = _put(
        base_url,
        key,
        f"/v0/tenants/{workspace.tenant_id}/sso/google",
        {"clientId": "g", "clientSecret": "s", "endpoints": {"issuer": idp}},
    )
    assert refused.status_code == 400 and "endpoints" in refused.json()["message"]


def test_mfa_required_tenant_answers_mfa_required(
    browser: httpx.Client, client: httpx.Client, base_url: str, admin_key: str, idp: str
) -> None:
    mfa_tenant = new_tenant(
        base_url,
        admin_key,
        name="SSO MFA",
        settings={
            "authentication": {
                "firstFactors": [{"channel": "email", "strategy": "password"}],
                "secondFactors": [{"channel": "authenticator", "strategy": "totp"}],
            },
            "mfa": {"policy": "all"},
        },
    )
    saved = _put(
        base_url,
        admin_key,
        f"/v0/tenants/{mfa_tenant}/sso/custom/mock",
        {"enabled": True, "clientId": "portcullis", "clientSecret": SECRET, "issuer": idp},
    )
    assert saved.status_code == 200, saved.text
    email = unique_email("sso-mfa")
    _user(idp, f"mfa-{email}", email=email, email_verified=True)
    landed = _sign_on(browser, mfa_tenant, f"mfa-{email}")
    answer = _exchange(client, mfa_tenant, landed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"] == "MFA required"
    assert answer.json()["firstFactorToken"].startswith("uf_test_first_factor_")


def test_callback_by_form_post(browser: httpx.Client, tenant: str, idp: str) -> None:
    """Apple answers with `response_mode=form_post`: the same path takes the form."""
    email = unique_email("sso-form")
    _user(idp, email, email=email, email_verified=True)
    callback = httpx.URL(_consent(_start(browser, tenant), email).headers["location"])
    posted = browser.post(
        callback.path,
        data=dict(callback.params),
        headers={"origin": "https://appleid.apple.com"},
    )
    assert _landing(posted)["type"] == "sso"
