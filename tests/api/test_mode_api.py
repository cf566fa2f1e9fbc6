"""`GET /v0/tenants/{tenantId}/mode`: mode from the origin and the live domains."""

import uuid


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
        assert mode(f"https://{domain}") == "live"
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
    tid = workspace.tenant_id
    factors = [{"channel": "email", "strategy": "link"}]
    updated = api(
        "PUT",
        f"/v0/tenants/{tid}/settings",
        key=workspace.keys["test"]["admin"],
        json={"authentication": {"firstFactors": factors}},
    )
    assert updated.status_code == 200, updated.text
    try:
        body = api("GET", f"/v0/tenants/{tid}/mode").json()
        assert body == {
            "mode": "test",
            "authentication": {"firstFactors": factors, "secondFactors": []},
        }
    finally:
        api(
            "PUT",
            f"/v0/tenants/{tid}/settings",
            key=workspace.keys["test"]["admin"],
            json={
                "authentication": {
                    "firstFactors": [
                        {"channel": "email", "strategy": "password"},
                        {"channel": "email", "strategy": "link"},
                        {"channel": "email", "strategy": "verificationCode"},
                    ]
                }
            },
        )


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
    assert current["mfa"] == {"policy": "optional"}
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
