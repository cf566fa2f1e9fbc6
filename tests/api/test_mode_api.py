"""`GET /v0/tenants/{tenantId}/mode`: mode from the origin and the live domains."""

import time
import uuid
from collections.abc import Callable

# Functions cache a tenant's settings for a few seconds (docs/auth.md): a change made
# through the settings endpoint shows at `/mode` within that time, not at once.
SETTLE_SECONDS = 8.0


def eventually(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while not check():
        assert time.monotonic() < deadline, "the change never showed"
        time.sleep(0.2)


def live_admin(workspace) -> str:
    return workspace.keys["live"]["admin"]


def test_mode_by_origin_and_live_domains(api, workspace) -> None:
    tid = workspace.tenant_id
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    response = api(
        "PUT",
        f"/v0/tenants/{tid}/settings",
        key=live_admin(workspace),
        json={"liveDomains": [{"domain": domain}]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["liveDomains"] == [{"domain": domain, "includeSubdomains": True}]

    def mode(origin: str | None, header: str = "Origin") -> str:
        headers = {header: origin} if origin else {}
        answer = api("GET", f"/v0/tenants/{tid}/mode", headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"mode", "authentication"}
        assert set(body["authentication"]) == {"firstFactors", "secondFactors"}
        return body["mode"]

    try:
        eventually(lambda: mode(f"https://{domain}") == "live")
        assert mode(f"https://app.{domain}") == "live"
        assert mode(f"https://app.{domain}", header="x-origin") == "live"
        assert mode(f"http://{domain}") == "test"
        assert mode("http://localhost:5173") == "test"
        assert mode("https://other.example.org") == "test"
        assert mode(None) == "test"
    finally:
        # the workspace is shared by this worker's tests: leave it as it was
        api(
            "PUT",
            f"/v0/tenants/{tid}/settings",
            key=live_admin(workspace),
            json={"liveDomains": []},
        )


def test_mode_publishes_the_modes_own_factors(api, workspace) -> None:
    key = workspace.keys["test"]["admin"]
    created = api("POST", "/v0/tenants", key=key, json={"name": "Factors"})
    assert created.status_code == 200, created.text
    tid = created.json()["tenantId"]
    default = api("GET", f"/v0/tenants/{tid}/mode").json()
    assert default["authentication"]["firstFactors"] == [
        {"channel": "email", "strategy": "password"},
        {"channel": "email", "strategy": "link"},
        {"channel": "email", "strategy": "verificationCode"},
    ]
    factors = [{"channel": "email", "strategy": "link"}]
    updated = api(
        "PUT",
        f"/v0/tenants/{tid}/settings",
        key=key,
        json={"authentication": {"firstFactors": factors}},
    )
    assert updated.status_code == 200, updated.text
    expected = {"mode": "test", "authentication": {"firstFactors": factors, "secondFactors": []}}
    eventually(lambda: api("GET", f"/v0/tenants/{tid}/mode").json() == expected)


def test_unknown_tenant_is_404(api) -> None:
    assert api("GET", "/v0/tenants/zzzz1111/mode").status_code == 404
    assert api("GET", "/v0/tenants/BAD/mode").status_code == 404


def test_settings_round_trip_and_validation(api, workspace) -> None:
    response = api(
        "POST", "/v0/tenants", key=workspace.keys["test"]["admin"], json={"name": "Settings"}
    )
    tid = response.json()["tenantId"]
    key = workspace.keys["test"]["admin"]
    current = api("GET", f"/v0/tenants/{tid}/settings", key=key).json()
    assert current["rateLimits"]["signupPerIp"] == {"limit": 20, "windowSeconds": 3600}
    assert current["mfa"] == {"policy": "optional", "firstFactorTokenSeconds": 600}
    changed = api(
        "PUT",
        f"/v0/tenants/{tid}/settings",
        key=key,
        json={
            "accessTokenDuration": 3600,
            "rateLimits": {"sendPerIp": {"limit": 2, "windowSeconds": 60}},
        },
    ).json()
    assert changed["accessTokenDuration"] == 3600
    assert changed["rateLimits"]["sendPerIp"] == {"limit": 2, "windowSeconds": 60}
    assert changed["rateLimits"]["signupPerIp"] == {"limit": 20, "windowSeconds": 3600}
    for body, field in [
        ({"unknown": True}, '"unknown" is not allowed'),
        ({"accessTokenDuration": "1h"}, '"accessTokenDuration" must be an integer'),
        ({"mfa": {"policy": "never"}}, '"mfa.policy" must be one of [optional, all]'),
        (
            {"liveDomains": [{"domain": "co.uk"}]},
            '"liveDomains[0].domain" cannot be a public suffix',
        ),
        (
            {"authentication": {"secondFactors": [{"channel": "fax", "strategy": "totp"}]}},
            '"authentication.secondFactors[0].channel"',
        ),
    ]:
        bad = api("PUT", f"/v0/tenants/{tid}/settings", key=key, json=body)
        assert bad.status_code == 400, body
        assert bad.json()["message"].startswith(field), bad.json()
    # the live side of the same tenant id is out of reach for this test-mode child
    assert (
        api("GET", f"/v0/tenants/{tid}/settings", key=workspace.keys["live"]["admin"]).status_code
        == 403
    )
