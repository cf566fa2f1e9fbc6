"""`options.redirect` of emailed links, and the tenant's redirect paths (issue 8, item 1).

A redirect is a path on the site (`/x`: not `//x`, no backslash, no whitespace or
control characters) or an absolute URL of the same site read by the strict origin
parser: a live domain in live mode, the request's own origin in test mode. Anything
else is 400 naming the field, before anything is written or sent.
"""

from __future__ import annotations

import uuid

import pytest
from authkit import PASSWORD, bearer, link_params, new_tenant, outbox, unique_email

LOCAL = "http://localhost:3000"
REFUSED = [
    "//evil.test",
    "//evil.test/x",
    "/\\evil.test",
    "\\\\evil.test",
    "/x\\y",
    "/a\tb",
    "/a b",
    "https://evil.test/x",
    "http://evil.test\\@localhost:3000/x",
    "http://evil.test@localhost:3000/x",
    "http://localhost:3000@evil.test/x",
    "http:evil.test",
    "http:/\\evil.test",
    "javascript:alert(1)",
    "dashboard",
]


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"))


@pytest.fixture(scope="module")
def domain() -> str:
    return f"redir-{uuid.uuid4().hex[:10]}.example.com"


@pytest.fixture(scope="module")
def live_tenant(base_url: str, workspace, domain: str) -> str:
    return new_tenant(
        base_url, workspace.key("live", "admin"), {"liveDomains": [{"domain": domain}]}
    )


def _send(client, tenant: str, path: str, redirect: str, **body) -> object:
    return client.post(
        f"/v0/tenants/{tenant}/{path}",
        json={"email": unique_email("redir"), **body, "options": {"redirect": redirect}},
        headers={"Origin": LOCAL},
    )


@pytest.mark.parametrize("path", ["auth/link", "auth/reset/link", "auth/verify/email"])
def test_unsafe_redirects_are_refused(client, tenant, path: str) -> None:
    for redirect in REFUSED:
        response = _send(client, tenant, path, redirect)
        assert response.status_code == 400, (redirect, response.text)
        assert "options.redirect" in response.json()["message"], (redirect, response.text)


def test_site_paths_and_same_origin_urls_are_kept(client, tenant) -> None:
    for redirect in ["/dashboard?tab=1#top", f"{LOCAL}/welcome", LOCAL]:
        response = _send(client, tenant, "auth/link", redirect)
        assert response.status_code == 200, (redirect, response.text)
        assert link_params(response.json()["result"]["link"])["redirect"] == redirect


def test_nothing_is_written_for_a_refused_redirect(client, tenant) -> None:
    email = unique_email("redir-none")
    refused = _send(client, tenant, "auth/link", "//evil.test", email=email)
    assert refused.status_code == 400
    # The address never got an account: a later link is a welcome link, not a login link.
    sent = _send(client, tenant, "auth/link", "/ok", email=email)
    assert link_params(sent.json()["result"]["link"])["type"] == "welcome"


def test_live_redirects_stay_on_live_domains(client, live_tenant, domain) -> None:
    live = {"Origin": f"https://{domain}"}
    email = unique_email("redir-live")
    created = client.post(
        f"/v0/tenants/{live_tenant}/auth/create",
        json={"email": email, "password": PASSWORD, "options": {"noSignupEmail": True}},
        headers=live,
    )
    assert created.status_code == 200, created.text
    for redirect in ["https://evil.test/x", f"https://{domain}.evil.test/", f"http://{domain}/"]:
        response = client.post(
            f"/v0/tenants/{live_tenant}/auth/reset/link",
            json={"email": email, "options": {"redirect": redirect}},
            headers=live,
        )
        assert response.status_code == 400, (redirect, response.text)
    accepted = f"https://shop.{domain}/after"
    response = client.post(
        f"/v0/tenants/{live_tenant}/auth/reset/link",
        json={"email": email, "options": {"redirect": accepted}},
        headers=live,
    )
    assert response.status_code == 200, response.text
    (message,) = outbox(client, email)
    assert "redirect=https%3A%2F%2Fshop." in message["text"]


@pytest.mark.parametrize("field", ["loginRedirectPath", "logoutRedirectPath", "resetPasswordPath"])
@pytest.mark.parametrize("value", ["//evil.test", "/\\evil.test", "/a\tb", "/a\nb", "https://x"])
def test_tenant_paths_refuse_other_hosts(api, workspace, tenant, field: str, value: str) -> None:
    response = api(
        "PUT",
        f"/v0/tenants/{tenant}/settings",
        key=workspace.key("test", "admin"),
        json={field: value},
    )
    assert response.status_code == 400, (field, value, response.text)
    assert field in response.json()["message"]


def test_tenant_paths_keep_plain_paths(client, workspace, tenant) -> None:
    response = client.put(
        f"/v0/tenants/{tenant}/settings",
        json={"loginRedirectPath": "/home?x=1"},
        headers=bearer(workspace.key("test", "admin")),
    )
    assert response.status_code == 200, response.text
