"""The tenant's `authentication.firstFactors` decide which sign-in methods its public
endpoints serve (docs/auth.md "Enabled factors"): a method that `/mode` does not publish
is refused with 403 before any account is looked up."""

from __future__ import annotations

import time

import httpx
import pytest
from authkit import PASSWORD, bearer, error, link_params, new_tenant, unique_email, unique_phone

DISABLED = "This sign-in method is not enabled"
LINK_ONLY = [{"channel": "email", "strategy": "link"}]
# The tenant + settings read (portcullis.tenancy.state): the check needs the settings, and
# an instance repeats the read every few seconds, so it may or may not fall on a request.
SETTINGS_READ = "dynamodb:TransactGetItems"


def _calls(client: httpx.Client, response: httpx.Response) -> list[str]:
    """The AWS calls the request made (`GET /_local/calls`, infra/local/calltrace.py)."""
    traced = client.get("/_local/calls", params={"requestId": response.headers["x-amzn-RequestId"]})
    assert traced.status_code == 200, traced.text
    return list(traced.json()["calls"])


@pytest.fixture(scope="module")
def link_only(base_url: str, workspace) -> str:
    return new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"authentication": {"firstFactors": LINK_ONLY}},
        name="Link only",
    )


def test_mode_publishes_only_the_enabled_factor(client, link_only) -> None:
    body = client.get(f"/v0/tenants/{link_only}/mode").json()
    assert body["authentication"]["firstFactors"] == LINK_ONLY


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("auth/create", {"email": "new@example.com", "password": PASSWORD}),
        ("auth/basic", {"emailOrUsername": "new@example.com", "password": PASSWORD}),
        ("auth/reset/link", {"email": "new@example.com"}),
        ("auth/code", {"channel": "email", "email": "new@example.com"}),
        ("auth/code", {"channel": "sms", "phoneNumber": "+15550000000"}),
    ],
)
def test_disabled_methods_are_refused(client, link_only, path, body) -> None:
    response = client.post(f"/v0/tenants/{link_only}/{path}", json=body)
    error(response, 403, DISABLED)
    assert set(_calls(client, response)) <= {SETTINGS_READ}


def test_code_log_in_is_refused_when_codes_are_off(client, link_only) -> None:
    response = client.put(
        f"/v0/tenants/{link_only}/auth/code",
        json={"channel": "email", "email": "new@example.com", "verificationCode": "123456"},
    )
    error(response, 403, DISABLED)
    assert set(_calls(client, response)) <= {SETTINGS_READ}


def test_refusal_comes_before_any_account_lookup(client, link_only) -> None:
    """The factor check comes before any lookup: the refused requests, for a known and
    an unknown account, make no AWS call but the tenant's settings read, and answer alike."""
    email = unique_email("factor")
    sent = client.post(f"/v0/tenants/{link_only}/auth/link", json={"email": email})
    assert sent.status_code == 200, sent.text  # signs the address up (passwordless)
    # The enabled method, for comparison: it does look the account up.
    assert [c for c in _calls(client, sent) if c != SETTINGS_READ]
    known = client.post(
        f"/v0/tenants/{link_only}/auth/basic", json={"emailOrUsername": email, "password": "x"}
    )
    unknown = client.post(
        f"/v0/tenants/{link_only}/auth/basic",
        json={"emailOrUsername": unique_email("nobody"), "password": "x"},
    )
    assert error(known, 403) == error(unknown, 403)
    assert set(_calls(client, known)) <= {SETTINGS_READ}
    assert set(_calls(client, unknown)) <= {SETTINGS_READ}


def test_the_enabled_method_works(client, link_only) -> None:
    email = unique_email("link")
    sent = client.post(f"/v0/tenants/{link_only}/auth/link", json={"email": email})
    assert sent.status_code == 200, sent.text
    params = link_params(sent.json()["result"]["link"])
    logged_in = client.put(
        f"/v0/tenants/{link_only}/auth/link",
        json={"token": params["token"], "uuid": params["uuid"]},
    )
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["tokens"]["access"]["value"]


def test_enabling_a_method_opens_it(client, base_url, workspace) -> None:
    tenant = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"authentication": {"firstFactors": LINK_ONLY}},
        name="Factor switch",
    )
    email = unique_email("switch")
    error(
        client.post(
            f"/v0/tenants/{tenant}/auth/create", json={"email": email, "password": PASSWORD}
        ),
        403,
        DISABLED,
    )
    with httpx.Client(base_url=base_url, timeout=30) as http:
        enabled = http.put(
            f"/v0/tenants/{tenant}/settings",
            json={
                "authentication": {
                    "firstFactors": [*LINK_ONLY, {"channel": "email", "strategy": "password"}]
                }
            },
            headers=bearer(workspace.key("test", "admin")),
        )
        assert enabled.status_code == 200, enabled.text
    # The auth function caches a tenant's settings for a few seconds.
    for _ in range(40):
        created = client.post(
            f"/v0/tenants/{tenant}/auth/create", json={"email": email, "password": PASSWORD}
        )
        if created.status_code != 403:
            break
        time.sleep(0.25)
    assert created.status_code == 200, created.text


def test_sms_codes_are_off_by_default(client, workspace) -> None:
    """The workspace keeps the default factors (docs/settings.md): no SMS codes."""
    published = client.get(f"/v0/tenants/{workspace.tenant_id}/mode").json()
    factors = published["authentication"]["firstFactors"]
    assert {"channel": "sms", "strategy": "verificationCode"} not in factors
    assert {"channel": "email", "strategy": "verificationCode"} in factors
    response = client.post(
        f"/v0/tenants/{workspace.tenant_id}/auth/code",
        json={"channel": "sms", "phoneNumber": unique_phone()},
    )
    error(response, 403, DISABLED)
