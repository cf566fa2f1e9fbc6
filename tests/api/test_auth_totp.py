"""TOTP authenticator over HTTP: set up (api-client §9.5), log in with a code or a
backup code (§7.8, §7.9), remove (§9.8), and TOTP as the second factor of a sign-in
(§11.4–11.6). Codes are computed with pyotp from the secret the set-up returned, as an
authenticator app would."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import httpx
import PIL.Image
import pyotp
import pytest
import zxingcpp
from authkit import (
    PASSWORD,
    bearer,
    error,
    link_params,
    log_in,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
)
from conformance import conforms
from test_users_support import events_for, wait_for

TOTP = {"strategy": "totp", "channel": "authenticator"}
SMS = {"strategy": "verificationCode", "channel": "sms"}
SECOND_FACTORS = {"authentication": {"secondFactors": [TOTP, SMS]}}


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    """MFA for users who require it (policy "optional")."""
    return new_tenant(base_url, workspace.key("test", "admin"), SECOND_FACTORS, name="TOTP")


@pytest.fixture(scope="module")
def strict(base_url: str, workspace) -> str:
    """MFA for everyone (policy "all")."""
    settings = {**SECOND_FACTORS, "mfa": {"policy": "all"}}
    return new_tenant(base_url, workspace.key("test", "admin"), settings, name="TOTP all")


STEP_SECONDS = 30


def _code(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret).at(int(time.time() if at is None else at))


def _fresh_code(secret: str, used: set[int]) -> str:
    """A code of a time step later than every step used so far and inside the window the
    service accepts (current step ±1). The first code is of the previous step when the
    current one is young enough that it stays accepted while the request runs, so up to
    three codes fit in one step; a fourth waits for the next step."""
    while True:
        elapsed = time.time()
        now = int(elapsed) // STEP_SECONDS
        earliest = now - 1 if elapsed % STEP_SECONDS < 15 else now
        step = max(max(used, default=earliest - 1) + 1, earliest)
        if step <= now + 1:
            used.add(step)
            return _code(secret, step * STEP_SECONDS)
        time.sleep(1)


def _set_up(client: httpx.Client, access: str) -> dict[str, Any]:
    response = client.get("/v0/auth/totp", headers=bearer(access))
    assert response.status_code == 200, response.text
    conforms(response)  # the answer is what docs/openapi.json declares
    return response.json()


def _totp_login(
    client: httpx.Client, tenant: str, token: str | None = None, **body: Any
) -> httpx.Response:
    headers = bearer(token) if token else None
    return client.post(f"/v0/tenants/{tenant}/auth/totp", json=body, headers=headers)


def _signed_up_with_totp(
    client: httpx.Client, tenant: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user with an active authenticator: (sign-up body, set-up answer)."""
    user = sign_up(client, tenant)
    setup = _set_up(client, tokens(user)[0])
    setup["used"] = set()
    code = _fresh_code(setup["totpSecret"], setup["used"])
    activated = _totp_login(client, tenant, userId=user["userId"], totpCode=code)
    assert activated.status_code == 200, activated.text
    return user, setup


def _require_mfa(client: httpx.Client, access: str) -> None:
    opted = client.put("/v0/self", json={"isMfaRequired": True}, headers=bearer(access))
    assert opted.status_code == 200, opted.text


def _mfa_required(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "MFA required", body
    assert "tokens" not in body and "redirectTo" not in body
    assert body["isMfaRequired"] is True
    token = body["firstFactorToken"]
    assert (
        token.startswith("uf_test_first_factor_")
        and len(token) == len("uf_test_first_factor_") + 32
    )
    return body


# ------------------------------------------------------------------ set up and activate


def test_set_up_returns_a_secret_a_png_qr_code_and_ten_backup_codes(client, tenant) -> None:
    user = sign_up(client, tenant)
    setup = _set_up(client, tokens(user)[0])
    assert set(setup) == {"totpSecret", "qrCode", "backupCodes"}
    secret = setup["totpSecret"]
    assert len(secret) == 32 and len(base64.b32decode(secret)) == 20
    prefix = "data:image/png;base64,"
    assert setup["qrCode"].startswith(prefix)
    png = base64.b64decode(setup["qrCode"][len(prefix) :])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # What an authenticator app reads from the picture: issuer = tenant name, account = email.
    decoded = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png)))
    assert [d.format for d in decoded] == [zxingcpp.BarcodeFormat.QRCode]
    email = user["email"]
    assert decoded[0].text == (
        f"otpauth://totp/TOTP:{email}?secret={secret}&issuer=TOTP&algorithm=SHA1&digits=6&period=30"
    )
    codes = setup["backupCodes"]
    assert len(codes) == 10 == len(set(codes))
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    # Pending until the first good code: a second set-up replaces it.
    again = _set_up(client, tokens(user)[0])
    assert again["totpSecret"] != secret and again["backupCodes"]
    stale = _totp_login(client, tenant, userId=user["userId"], totpCode=_code(secret))
    error(stale, 400, "Invalid TOTP code")


def test_the_first_good_code_activates_and_signs_in(client, tenant) -> None:
    user = sign_up(client, tenant)
    access = tokens(user)[0]
    setup = _set_up(client, access)
    activated = _totp_login(
        client, tenant, userId=user["userId"], totpCode=_code(setup["totpSecret"])
    )
    assert activated.status_code == 200, activated.text
    assert activated.json()["tokens"]["access"]["value"]
    # Active: the same secret again, the backup codes are not shown a second time.
    again = _set_up(client, access)
    assert again["totpSecret"] == setup["totpSecret"] and again["backupCodes"] == []
    me = client.get("/v0/self", headers=bearer(access)).json()
    assert "totpSecret" not in str(me) and setup["totpSecret"] not in str(me)


def test_set_up_needs_a_token(client) -> None:
    error(client.get("/v0/auth/totp"), 401)
    error(client.get("/v0/auth/totp", headers=bearer("not-a-token")), 401)
    error(client.get("/v0/auth/totp", headers=bearer("uf_test_first_factor_" + "0" * 32)), 401)
    error(client.get("/v0/auth/totp", headers=bearer("uf_test_first_factor_xyz")), 401)


def test_totp_is_not_a_first_factor_unless_the_tenant_lists_it(client, tenant) -> None:
    user, setup = _signed_up_with_totp(client, tenant)
    code = _fresh_code(setup["totpSecret"], setup["used"])
    refused = _totp_login(client, tenant, emailOrUsername=user["email"], totpCode=code)
    error(refused, 400, "Invalid TOTP code")


def test_input_errors(client, tenant) -> None:
    error(_totp_login(client, tenant, userId=1), 400, "totpCode or backupCode is required")
    error(_totp_login(client, tenant, totpCode="123456"), 400, "a user identifier is required")
    error(_totp_login(client, tenant, userId="7", totpCode="123456"), 400)
    unknown = _totp_login(client, tenant, emailOrUsername=unique_email(), totpCode="123456")
    error(unknown, 400, "Invalid TOTP code")
    unknown = _totp_login(client, tenant, userId=10**9, backupCode="aaaaa-bbbbb")
    error(unknown, 400, "Invalid backup code")


# ------------------------------------------------------------------ MFA with TOTP


def test_password_then_totp(client, tenant) -> None:
    user, setup = _signed_up_with_totp(client, tenant)
    _require_mfa(client, tokens(user)[0])
    first = _mfa_required(log_in(client, tenant, user["email"]))
    assert first["authentication"]["firstFactor"] == {"strategy": "password", "channel": "email"}
    offered = first["authentication"]["secondFactors"]
    assert offered[0] == {**TOTP, "isConfiguredByUser": True, "isPreferredByUser": True}
    assert {**SMS, "isConfiguredByUser": False, "isPreferredByUser": False} in offered
    token = first["firstFactorToken"]
    code = _fresh_code(setup["totpSecret"], setup["used"])
    done = _totp_login(client, tenant, token, totpCode=code)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["message"] == "OK" and "firstFactorToken" not in body
    assert body["userId"] == user["userId"]
    session = client.get("/v0/auth/session", headers=bearer(tokens(body)[0]))
    assert session.status_code == 200, session.text
    assert session.json()["authentication"] == {
        "firstFactor": {"strategy": "password", "channel": "email"},
        "secondFactor": TOTP,
    }
    # The token is used up: a second use is a first factor without an identifier.
    code = _fresh_code(setup["totpSecret"], setup["used"])
    error(_totp_login(client, tenant, token, totpCode=code), 400, "a user identifier is required")
    # And a password with the used token is a fresh first factor: MFA again, never tokens.
    headers = bearer(token)
    again = client.post(
        f"/v0/tenants/{tenant}/auth/basic",
        json={"emailOrUsername": user["email"], "password": PASSWORD},
        headers=headers,
    )
    assert _mfa_required(again)["firstFactorToken"] != token
    me = client.get("/v0/self", headers=bearer(tokens(body)[0])).json()
    assert me["preferredSecondFactor"] == TOTP


def test_a_replayed_code_is_refused(client, tenant) -> None:
    user, setup = _signed_up_with_totp(client, tenant)
    _require_mfa(client, tokens(user)[0])
    code = _fresh_code(setup["totpSecret"], setup["used"])
    first = _mfa_required(log_in(client, tenant, user["email"]))["firstFactorToken"]
    assert _totp_login(client, tenant, first, totpCode=code).status_code == 200
    second = _mfa_required(log_in(client, tenant, user["email"]))["firstFactorToken"]
    error(_totp_login(client, tenant, second, totpCode=code), 400, "Invalid TOTP code")
    # The token survived the wrong attempt; a code of a later step completes it.
    later = _fresh_code(setup["totpSecret"], setup["used"])
    assert _totp_login(client, tenant, second, totpCode=later).status_code == 200


def test_a_backup_code_works_once(client, tenant) -> None:
    user, setup = _signed_up_with_totp(client, tenant)
    _require_mfa(client, tokens(user)[0])
    backup = setup["backupCodes"][3]
    first = _mfa_required(log_in(client, tenant, user["email"]))["firstFactorToken"]
    typed = " " + backup.upper() + " "  # compared after lowercasing and trimming
    done = _totp_login(client, tenant, first, backupCode=typed, emailOrUsername=user["email"])
    assert done.status_code == 200, done.text
    second = _mfa_required(log_in(client, tenant, user["email"]))["firstFactorToken"]
    error(_totp_login(client, tenant, second, backupCode=backup), 400, "Invalid backup code")
    other = setup["backupCodes"][4]
    assert _totp_login(client, tenant, second, backupCode=other).status_code == 200


def test_a_token_is_bound_to_its_user(client, tenant) -> None:
    user, setup = _signed_up_with_totp(client, tenant)
    other = sign_up(client, tenant)
    _require_mfa(client, tokens(user)[0])
    token = _mfa_required(log_in(client, tenant, user["email"]))["firstFactorToken"]
    code = _fresh_code(setup["totpSecret"], setup["used"])
    error(
        _totp_login(client, tenant, token, totpCode=code, userId=other["userId"]),
        400,
        "userId does not match",
    )
    mismatch = _totp_login(client, tenant, token, totpCode=code, emailOrUsername=other["email"])
    error(mismatch, 400, "emailOrUsername does not match")
    assert (
        _totp_login(client, tenant, token, totpCode=code, userId=user["userId"]).status_code == 200
    )


def test_a_token_of_another_tenant_is_invalid(client, tenant, strict) -> None:
    user, _ = _signed_up_with_totp(client, tenant)
    _require_mfa(client, tokens(user)[0])
    token = _mfa_required(log_in(client, tenant, user["email"]))["firstFactorToken"]
    error(_totp_login(client, strict, token, totpCode="123456"), 401, "Invalid token")
    live = _totp_login(client, tenant, "uf_live_first_factor_" + token[-32:], totpCode="123456")
    error(live, 401, "Invalid token")


def test_five_wrong_codes_end_the_token(client, tenant) -> None:
    user, setup = _signed_up_with_totp(client, tenant)
    _require_mfa(client, tokens(user)[0])
    token = _mfa_required(log_in(client, tenant, user["email"]))["firstFactorToken"]
    good = _code(setup["totpSecret"])
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(5):
        error(_totp_login(client, tenant, token, totpCode=wrong), 400, "Invalid TOTP code")
    code = _fresh_code(setup["totpSecret"], setup["used"])
    dead = _totp_login(client, tenant, token, totpCode=code)
    error(dead, 400, "a user identifier is required")


def test_wrong_codes_lock_the_account_like_passwords(client, base_url, workspace) -> None:
    limited = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {
            **SECOND_FACTORS,
            "rateLimits": {"attemptsPerAccount": {"limit": 3, "windowSeconds": 900}},
        },
        name="TOTP lockout",
    )
    user, setup = _signed_up_with_totp(client, limited)
    statuses = []
    for _ in range(4):
        wrong = f"{(int(_code(setup['totpSecret'])) + 7) % 1_000_000:06d}"
        statuses.append(
            _totp_login(client, limited, userId=user["userId"], totpCode=wrong).status_code
        )
    assert statuses[:3] == [400, 400, 400] and statuses[3] == 429, statuses
    code = _fresh_code(setup["totpSecret"], setup["used"])
    error(_totp_login(client, limited, userId=user["userId"], totpCode=code), 429)


def test_the_token_expires(client, base_url, workspace) -> None:
    short = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {**SECOND_FACTORS, "mfa": {"policy": "all", "firstFactorTokenSeconds": 10}},
        name="TOTP short",
    )
    signup = client.post(
        f"/v0/tenants/{short}/auth/create", json={"email": unique_email(), "password": PASSWORD}
    )
    token = _mfa_required(signup)["firstFactorToken"]
    time.sleep(11)
    # Expired: ignored on sign-in endpoints, refused where it is the only credential.
    error(
        _totp_login(client, short, token, totpCode="123456"), 400, "a user identifier is required"
    )
    error(client.get("/v0/auth/totp", headers=bearer(token)), 401, "Invalid token")


# ------------------------------------------------------------------ enrolment (§11.3, §11.6)


def test_policy_all_enrols_during_sign_up(client, strict) -> None:
    email = unique_email("enrol")
    signup = client.post(
        f"/v0/tenants/{strict}/auth/create", json={"email": email, "password": PASSWORD}
    )
    required = _mfa_required(signup)
    assert required["authentication"]["secondFactors"] == [
        {**TOTP, "isConfiguredByUser": False, "isPreferredByUser": False},
        {**SMS, "isConfiguredByUser": False, "isPreferredByUser": False},
    ]
    token = required["firstFactorToken"]
    setup = client.get("/v0/auth/totp", headers=bearer(token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["totpSecret"]
    assert len(setup.json()["backupCodes"]) == 10
    done = _totp_login(client, strict, token, totpCode=_code(secret))
    assert done.status_code == 200, done.text
    assert done.json()["redirectTo"] == "/dashboard"
    # The client keeps sending its used token (§9.5): it stands for its session.
    stale = client.get("/v0/auth/totp", headers=bearer(token))
    assert stale.status_code == 200, stale.text
    assert stale.json()["totpSecret"] == secret and stale.json()["backupCodes"] == []
    # A new first factor never reveals an active authenticator.
    fresh = _mfa_required(log_in(client, strict, email))["firstFactorToken"]
    error(client.get("/v0/auth/totp", headers=bearer(fresh)), 403, "TOTP is already set up")
    # Logging out ends the session the used token stood for.
    out = client.post("/v0/auth/logout", headers=bearer(tokens(done.json())[0]))
    assert out.status_code == 200, out.text
    error(client.get("/v0/auth/totp", headers=bearer(token)), 401, "Invalid token")


def test_no_password_alone_signs_in_a_user_who_must_use_mfa(client, strict) -> None:
    email = unique_email("strict")
    signup = client.post(
        f"/v0/tenants/{strict}/auth/create", json={"email": email, "password": PASSWORD}
    )
    _mfa_required(signup)
    for _ in range(2):
        _mfa_required(log_in(client, strict, email))
    legacy = client.post(
        "/v0/auth/basic", json={"tenantId": strict, "emailOrUsername": email, "password": PASSWORD}
    )
    _mfa_required(legacy)


def test_a_reset_waits_for_the_second_factor(client, tenant) -> None:
    user, setup = _signed_up_with_totp(client, tenant)
    _require_mfa(client, tokens(user)[0])
    sent = client.post(f"/v0/tenants/{tenant}/auth/reset/link", json={"email": user["email"]})
    params = link_params(sent.json()["result"]["link"])
    new_password = "a-brand-new-password-7"
    reset = client.put(
        f"/v0/tenants/{tenant}/auth/reset",
        json={"uuid": params["uuid"], "token": params["token"], "password": new_password},
    )
    token = _mfa_required(reset)["firstFactorToken"]
    # Nothing changed yet: the old password still passes the first factor, the new does not.
    _mfa_required(log_in(client, tenant, user["email"]))
    error(log_in(client, tenant, user["email"], new_password), 400)
    old_access = tokens(user)[0]
    assert client.get("/v0/self", headers=bearer(old_access)).status_code == 200
    code = _fresh_code(setup["totpSecret"], setup["used"])
    done = _totp_login(client, tenant, token, totpCode=code)
    assert done.status_code == 200, done.text
    _mfa_required(log_in(client, tenant, user["email"], new_password))
    error(log_in(client, tenant, user["email"]), 400)
    # The reset ended the other sessions once it completed.
    assert client.get("/v0/self", headers=bearer(old_access)).status_code == 401


# ------------------------------------------------------------------ remove (§9.8)


def test_removing_needs_a_current_code_and_ends_other_sessions(client, api, tenant) -> None:
    user, setup = _signed_up_with_totp(client, tenant)
    access = tokens(user)[0]
    other = log_in(client, tenant, user["email"]).json()
    error(
        client.request("DELETE", "/v0/auth/totp", headers=bearer(access)),
        400,
        "totpCode or backupCode is required",
    )
    wrong = f"{(int(_code(setup['totpSecret'])) + 3) % 1_000_000:06d}"
    refused = client.request(
        "DELETE", "/v0/auth/totp", json={"totpCode": wrong}, headers=bearer(access)
    )
    error(refused, 400, "Invalid TOTP code")
    removed = client.request(
        "DELETE",
        "/v0/auth/totp",
        json={"backupCode": setup["backupCodes"][0]},
        headers=bearer(access),
    )
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"message": "OK"}
    conforms(removed)
    # Announced like any change of the User object: its second factors changed.
    announced = wait_for(
        lambda: [
            e["detail"]["record"]
            for e in events_for(api, "user.update", userUuid=user["userUuid"])
            if e["detail"]["record"]["authentication"]["secondFactors"] == []
            and e["detail"]["record"]["updatedAt"] > user["updatedAt"]
        ]
    )
    assert announced, "no user.update event for the removal"
    assert client.get("/v0/self", headers=bearer(tokens(other)[0])).status_code == 401
    assert client.get("/v0/self", headers=bearer(access)).status_code == 200
    again = client.request(
        "DELETE", "/v0/auth/totp", json={"totpCode": "123456"}, headers=bearer(access)
    )
    error(again, 404, "TOTP is not set up")
    error(client.request("DELETE", "/v0/auth/totp", json={"totpCode": "123456"}), 401)
    # A new set-up starts from scratch.
    assert _set_up(client, access)["backupCodes"]


def test_a_pending_set_up_is_discarded_without_a_code(client, tenant) -> None:
    user = sign_up(client, tenant)
    access = tokens(user)[0]
    _set_up(client, access)
    removed = client.request("DELETE", "/v0/auth/totp", headers=bearer(access))
    assert removed.status_code == 200, removed.text


def test_activating_from_settings_when_mfa_is_required_still_activates(client, tenant) -> None:
    """A signed-in user who must use MFA confirms a set-up without a first-factor token
    (§7.8): TOTP was the first factor of that call, so a second one is due (§1.5), and
    the authenticator is active in any case."""
    user = sign_up(client, tenant)
    access = tokens(user)[0]
    _require_mfa(client, access)
    setup = _set_up(client, access)
    code = _code(setup["totpSecret"])
    answer = _mfa_required(_totp_login(client, tenant, userId=user["userId"], totpCode=code))
    assert answer["authentication"]["firstFactor"] == TOTP
    assert [f["channel"] for f in answer["authentication"]["secondFactors"]] == ["sms"]
    again = _set_up(client, access)
    assert again["totpSecret"] == setup["totpSecret"] and again["backupCodes"] == []
    offered = _mfa_required(log_in(client, tenant, user["email"]))["authentication"]
    assert offered["secondFactors"][0] == {
        **TOTP,
        "isConfiguredByUser": True,
        "isPreferredByUser": True,
    }
