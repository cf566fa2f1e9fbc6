"""MFA as the User object and the server API show it (issue 10; api-client §1.10, §5,
§11.1–11.3; docs/auth.md "MFA"): `authentication.secondFactors` of a user, the tenant's
second factors at `/mode`, the `/self` opt-in, the admin's `isMfaRequired`, and the
admin recovery `DELETE .../users/{userId}/totp` (an extension).

TOTP authenticators are made through the real flow: `GET /v0/auth/totp` (access token
or first-factor token) and a first code at `POST .../auth/totp`, with codes from pyotp.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp
import pytest
from accesskit import api_key, child_tenant
from authkit import (
    ALL_FIRST_FACTORS,
    bearer,
    error,
    log_in,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
    unique_phone,
)
from conformance import conforms
from test_users_support import SECRET_FIELDS, events_for, wait_for

TOTP = {"channel": "authenticator", "strategy": "totp"}
SMS = {"channel": "sms", "strategy": "verificationCode"}
NOT_SET_UP = "TOTP is not set up"


@dataclass(frozen=True)
class Keys:
    tenant_id: str
    workspace: str  # the workspace's admin key: reaches the tenant by its path only
    admin: str  # an admin key of the tenant itself: account-level paths act on it
    readonly: str
    sibling: str  # an admin key of another child of the workspace


@pytest.fixture(scope="module")
def keys(base_url: str, workspace: Any) -> Keys:
    wkey = workspace.key("test", "admin")
    tenant_id = new_tenant(
        base_url,
        wkey,
        {"authentication": {"firstFactors": ALL_FIRST_FACTORS, "secondFactors": [TOTP, SMS]}},
        name="MFA admin",
    )
    with httpx.Client(base_url=base_url, timeout=30) as http:
        sibling = child_tenant(http, wkey, name="MFA sibling")
        return Keys(
            tenant_id=tenant_id,
            workspace=wkey,
            admin=api_key(http, wkey, tenant_id),
            readonly=api_key(http, wkey, tenant_id, "readonly"),
            sibling=api_key(http, wkey, sibling),
        )


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def user_path(keys: Keys, user: dict[str, Any], suffix: str = "") -> str:
    return f"/v0/tenants/{keys.tenant_id}/users/{user['userUuid']}{suffix}"


def start_setup(client: httpx.Client, token: str) -> dict[str, Any]:
    """`GET /v0/auth/totp`: a pending secret and its backup codes."""
    setup = ok(client.get("/v0/auth/totp", headers=bearer(token)))
    assert setup["totpSecret"] and len(setup["backupCodes"]) == 10
    return setup


def enrol(client: httpx.Client, tenant_id: str, signed_up: dict[str, Any]) -> dict[str, Any]:
    """A signed-in user sets up TOTP from a settings page (§9.5 then §7.8)."""
    setup = start_setup(client, tokens(signed_up)[0])
    code = pyotp.TOTP(setup["totpSecret"]).now()
    body = {"totpCode": code, "userId": signed_up["userId"]}
    ok(client.post(f"/v0/tenants/{tenant_id}/auth/totp", json=body))
    return setup


def assert_no_secret(body: dict[str, Any], setup: dict[str, Any]) -> None:
    text = json.dumps(body)
    assert setup["totpSecret"] not in text
    assert not any(code in text for code in setup["backupCodes"])
    assert not set(SECRET_FIELDS) & set(body)


# ------------------------------------------------------------------ the User object


def test_user_object_lists_the_second_factors_the_user_has(client, api, keys) -> None:
    created = sign_up(client, keys.tenant_id, unique_email("factors"))
    access = tokens(created)[0]
    # Nothing set up yet: no TOTP, no confirmed phone number.
    assert created["authentication"]["secondFactors"] == []
    assert ok(client.get("/v0/self", headers=bearer(access)))["authentication"] == {
        "firstFactors": [f for f in ALL_FIRST_FACTORS if f["channel"] == "email"],
        "secondFactors": [],
    }
    assert (
        ok(api("GET", user_path(keys, created), key=keys.workspace))["authentication"][
            "secondFactors"
        ]
        == []
    )

    setup = enrol(client, keys.tenant_id, created)
    itself = ok(client.get("/v0/self", headers=bearer(access)))
    assert itself["authentication"]["secondFactors"] == [TOTP]
    assert itself["isMfaRequired"] is False  # setting up TOTP is no opt-in (§11.2)
    as_admin = ok(api("GET", user_path(keys, created), key=keys.admin))
    assert as_admin["authentication"]["secondFactors"] == [TOTP]
    signed_in = ok(log_in(client, keys.tenant_id, created["email"]))
    assert "tokens" in signed_in and signed_in["authentication"]["secondFactors"] == [TOTP]
    for body in (itself, as_admin, signed_in):
        assert_no_secret(body, setup)


def test_a_confirmed_phone_number_is_an_sms_second_factor(client, api, keys) -> None:
    phone = unique_phone()
    sent = ok(
        client.post(f"/v0/tenants/{keys.tenant_id}/auth/code", json={**SMS, "phoneNumber": phone})
    )
    code = sent["result"]["verificationCode"]
    body = {**SMS, "phoneNumber": phone, "verificationCode": code}
    signed_in = ok(client.put(f"/v0/tenants/{keys.tenant_id}/auth/code", json=body))
    # A phone-only user: SMS codes are all it can sign in with, and its second factor.
    assert signed_in["authentication"] == {"firstFactors": [SMS], "secondFactors": [SMS]}
    enrol(client, keys.tenant_id, signed_in)
    itself = ok(client.get("/v0/self", headers=bearer(tokens(signed_in)[0])))
    assert itself["authentication"]["secondFactors"] == [TOTP, SMS]  # the tenant's order


def test_mode_publishes_the_tenants_second_factors(client, keys) -> None:
    mode = ok(client.get(f"/v0/tenants/{keys.tenant_id}/mode"))
    assert mode["authentication"]["secondFactors"] == [TOTP, SMS]


# ------------------------------------------------------------------ who requires MFA


def test_self_opt_in_and_the_administrator_turns_it_off(client, api, keys) -> None:
    email = unique_email("optin")
    access = tokens(sign_up(client, keys.tenant_id, email))[0]
    user = ok(client.get("/v0/self", headers=bearer(access)))
    # The client sends the object back unchanged: `false` while it is off changes nothing.
    unchanged = ok(client.put("/v0/self", json={"isMfaRequired": False}, headers=bearer(access)))
    assert unchanged["isMfaRequired"] is False
    assert "tokens" in ok(log_in(client, keys.tenant_id, email))

    on = ok(client.put("/v0/self", json={"isMfaRequired": True}, headers=bearer(access)))
    assert on["isMfaRequired"] is True
    required = ok(log_in(client, keys.tenant_id, email))
    assert required["message"] == "MFA required" and "tokens" not in required
    off = client.put("/v0/self", json={"isMfaRequired": False}, headers=bearer(access))
    error(off, 403, "isMfaRequired can only be turned off by an administrator")
    assert ok(client.get("/v0/self", headers=bearer(access)))["isMfaRequired"] is True

    # The administrator turns it off and on, on either path.
    cleared = ok(
        api("PUT", user_path(keys, user), key=keys.workspace, json={"isMfaRequired": False})
    )
    assert cleared["isMfaRequired"] is False
    assert "tokens" in ok(log_in(client, keys.tenant_id, email))
    path = f"/v0/users/{user['userId']}"
    assert ok(api("PUT", path, key=keys.admin, json={"isMfaRequired": True}))["isMfaRequired"]
    assert ok(log_in(client, keys.tenant_id, email))["message"] == "MFA required"
    refused = api("PUT", path, key=keys.readonly, json={"isMfaRequired": False})
    assert refused.status_code == 403, refused.text
    assert ok(api("GET", path, key=keys.admin))["isMfaRequired"] is True


# ------------------------------------------------------------------ admin recovery


def test_admin_recovery_removes_the_authenticator_and_keeps_the_sessions(client, api, keys) -> None:
    email = unique_email("lost-phone")
    first = tokens(sign_up(client, keys.tenant_id, email))[0]
    user = ok(client.get("/v0/self", headers=bearer(first)))
    ok(api("PUT", user_path(keys, user), key=keys.workspace, json={"isMfaRequired": True}))

    # Enrolment during sign-in: password, then TOTP set up with the first-factor token.
    required = ok(log_in(client, keys.tenant_id, email))
    token = required["firstFactorToken"]
    setup = start_setup(client, token)
    code = pyotp.TOTP(setup["totpSecret"]).now()
    second = ok(
        client.post(
            f"/v0/tenants/{keys.tenant_id}/auth/totp",
            json={"totpCode": code},
            headers=bearer(token),
        )
    )
    access = tokens(second)[0]
    before = ok(client.get("/v0/self", headers=bearer(access)))
    assert before["preferredSecondFactor"] == TOTP
    assert before["authentication"]["secondFactors"] == [TOTP]

    removal = api("DELETE", user_path(keys, user, "/totp"), key=keys.workspace)
    conforms(removal)  # the answer is what docs/openapi.json declares
    recovered = ok(removal)
    assert recovered["userUuid"] == user["userUuid"]
    assert recovered["authentication"]["secondFactors"] == []
    assert recovered["preferredSecondFactor"] is None
    assert recovered["isMfaRequired"] is True  # still required: a new factor is enrolled
    assert recovered["updatedAt"] > before["updatedAt"]
    assert_no_secret(recovered, setup)
    event = wait_for(
        lambda: [
            e
            for e in events_for(api, "user.update", userUuid=user["userUuid"])
            if e["detail"]["record"] == recovered
        ]
    )
    assert event, "no user.update event carries the recovered user"

    # The sessions stay; the user object says so too.
    for session_token in (first, access):
        assert ok(client.get("/v0/self", headers=bearer(session_token))) == recovered
    # The next sign-in offers to set up a second factor again; the old backup codes and
    # the old authenticator are gone.
    again = ok(log_in(client, keys.tenant_id, email))
    offered = {(f["strategy"], f["channel"]): f for f in again["authentication"]["secondFactors"]}
    assert offered[("totp", "authenticator")]["isConfiguredByUser"] is False
    backup = client.post(
        f"/v0/tenants/{keys.tenant_id}/auth/totp",
        json={"backupCode": setup["backupCodes"][0]},
        headers=bearer(again["firstFactorToken"]),
    )
    error(backup, 400, "Invalid backup code")
    fresh = start_setup(client, again["firstFactorToken"])
    assert fresh["totpSecret"] != setup["totpSecret"]

    # Nothing left to remove (the fresh set-up is pending: it is removed, then nothing is).
    ok(api("DELETE", f"/v0/users/{user['userId']}/totp", key=keys.admin))
    error(api("DELETE", user_path(keys, user, "/totp"), key=keys.workspace), 404, NOT_SET_UP)


def test_admin_recovery_discards_a_pending_setup(client, api, keys) -> None:
    created = sign_up(client, keys.tenant_id, unique_email("pending"))
    start_setup(client, tokens(created)[0])
    path = f"/v0/users/{created['userId']}/totp"
    removed = ok(api("DELETE", path, key=keys.admin))
    assert removed["authentication"]["secondFactors"] == []
    error(api("DELETE", path, key=keys.admin), 404, NOT_SET_UP)


def test_admin_recovery_needs_an_admin_key_of_the_users_tenant(client, api, keys) -> None:
    created = sign_up(client, keys.tenant_id, unique_email("scope"))
    setup = enrol(client, keys.tenant_id, created)
    uuid = created["userUuid"]
    tenant_path = user_path(keys, created, "/totp")

    error(api("DELETE", tenant_path), 401)
    for key in (keys.readonly, keys.sibling):
        assert api("DELETE", tenant_path, key=key).status_code == 403
    assert api("DELETE", f"/v0/users/{uuid}/totp", key=keys.readonly).status_code == 403
    # Account-level paths act on the key's home tenant: the user is not there.
    for key in (keys.sibling, keys.workspace):
        error(api("DELETE", f"/v0/users/{uuid}/totp", key=key), 404, "User not found")
    error(api("DELETE", "/v0/users/999999/totp", key=keys.admin), 404, "User not found")
    error(api("GET", tenant_path, key=keys.admin), 405)

    # None of that touched the authenticator.
    still = ok(api("GET", user_path(keys, created), key=keys.admin))
    assert still["authentication"]["secondFactors"] == [TOTP]
    removed = ok(api("DELETE", f"/v0/users/{uuid}/totp", key=keys.admin))
    assert removed["authentication"]["secondFactors"] == []
    assert_no_secret(removed, setup)
    # A user without TOTP answers the same as one whose TOTP is gone.
    other = sign_up(client, keys.tenant_id, unique_email("none"))
    error(api("DELETE", user_path(keys, other, "/totp"), key=keys.workspace), 404, NOT_SET_UP)
