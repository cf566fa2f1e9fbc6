"""Multi-factor sign-in with the unmodified `@userfront/core` 1.1.2 in a jsdom page.

The client keeps the firstFactorToken of an "MFA required" answer (api-client §1.5) in
page memory only, so each sign-in with two factors is one run of one scenario
(`scenarios_mfa.mjs`): password → "MFA required" → second factor, on the same page.
TOTP codes are computed in Node from the secret `user.getTotp()` returned
(`totp.mjs`, RFC 6238), as an authenticator app would after scanning the QR code; the
QR code itself is read back (zxing-cpp) to check it carries that secret.

Two tenants of the workspace (test mode, first factors password and email code, second
factors TOTP and SMS code): one with `mfa.policy: "optional"`, where an administrator
sets a user's `isMfaRequired`, and one with `mfa.policy: "all"`, where every sign-in,
the sign-up included, needs a second factor (§11.2, §11.3).
"""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import PIL.Image
import pytest
import zxingcpp
from test_userfront_core import AFTER_LOGIN, PASSWORD, jwt_claims, new_email, signed_in

FIRST_FACTORS = [
    {"channel": "email", "strategy": "password"},
    {"channel": "email", "strategy": "verificationCode"},
]
TOTP = {"strategy": "totp", "channel": "authenticator"}
SMS = {"strategy": "verificationCode", "channel": "sms"}
PASSWORD_FACTOR = {"strategy": "password", "channel": "email"}
TOTP_STEP_SECONDS = 30

FIRST_FACTOR_TOKEN = re.compile(r"uf_test_first_factor_[0-9a-f]{32}")
BASE32_SECRET = re.compile(r"[A-Z2-7]{32}")  # 160 bits (§9.5)
BACKUP_CODE = re.compile(r"[0-9a-f]{5}-[0-9a-f]{5}")  # §7.9


# ---------------------------------------------------------------------------------------
# Tenants and helpers


def tenant_name(policy: str) -> str:
    """The tenant's name: the issuer an authenticator app shows (§9.5)."""
    return f"MFA {policy}"


# The SMS test texts one number twice within seconds (set-up, then a later sign-in);
# the default spacing of sends to one target is 30 s. A child's limits never exceed its
# parent's, so the workspace is given it first, with the very value tests/api/authkit.py
# gives every limit (the API tests share this service when run in the same session).
SEND_SPACING = {"sendIntervalPerTarget": {"limit": 100_000, "windowSeconds": 60}}


def _new_tenant(base_url: str, workspace: Any, policy: str) -> str:
    """A child tenant of the workspace with MFA on, created through the admin API."""
    headers = {"Authorization": f"Bearer {workspace.key('test', 'admin')}"}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        parent = http.put(
            f"/v0/tenants/{workspace.tenant_id}/settings",
            json={"rateLimits": SEND_SPACING},
            headers=headers,
        )
        assert parent.status_code == 200, parent.text
        created = http.post("/v0/tenants", json={"name": tenant_name(policy)}, headers=headers)
        assert created.status_code == 200, created.text
        tenant_id: str = created.json()["tenantId"]
        settings = {
            "authentication": {"firstFactors": FIRST_FACTORS, "secondFactors": [TOTP, SMS]},
            "mfa": {"policy": policy},
            "rateLimits": SEND_SPACING,
        }
        updated = http.put(f"/v0/tenants/{tenant_id}/settings", json=settings, headers=headers)
        assert updated.status_code == 200, updated.text
    return tenant_id


@pytest.fixture(scope="module")
def optional_tenant(base_url: str, workspace: Any) -> str:
    return _new_tenant(base_url, workspace, "optional")


@pytest.fixture(scope="module")
def all_tenant(base_url: str, workspace: Any) -> str:
    return _new_tenant(base_url, workspace, "all")


@pytest.fixture
def page(browser: Any, optional_tenant: str) -> Any:
    """The browser on the tenant whose users need MFA only when an admin says so."""
    return dataclasses.replace(browser, tenant_id=optional_tenant)


@pytest.fixture
def strict_page(browser: Any, all_tenant: str) -> Any:
    """The browser on the tenant where every user needs MFA."""
    return dataclasses.replace(browser, tenant_id=all_tenant)


def require_mfa(api: Any, workspace: Any, tenant_id: str, user_id: int) -> None:
    """The administrator turns on `isMfaRequired` for one user (server API)."""
    response = api(
        "PUT",
        f"/v0/tenants/{tenant_id}/users/{user_id}",
        key=workspace.key("test", "admin"),
        json={"isMfaRequired": True},
    )
    assert response.status_code == 200, response.text
    assert response.json()["isMfaRequired"] is True


def check_totp_setup(setup: dict[str, Any], issuer: str, account: str) -> None:
    """§9.5: a base32 secret, a PNG data URL for an <img> whose QR code carries the
    otpauth:// URI of that secret, and 10 single-use backup codes."""
    assert BASE32_SECRET.fullmatch(setup["totpSecret"]), setup["totpSecret"]
    prefix = "data:image/png;base64,"
    assert setup["qrCode"].startswith(prefix), setup["qrCode"][:40]
    png = base64.b64decode(setup["qrCode"][len(prefix) :], validate=True)
    (read,) = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png)))
    assert read.format == zxingcpp.BarcodeFormat.QRCode
    uri = read.text
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp"), uri
    assert unquote(parts.path) == f"/{issuer}:{account}", uri
    assert dict(parse_qsl(parts.query)) == {
        "secret": setup["totpSecret"],
        "issuer": issuer,
        "algorithm": "SHA1",
        "digits": "6",
        "period": str(TOTP_STEP_SECONDS),
    }, uri
    codes = setup["backupCodes"]
    assert len(codes) == len(set(codes)) == 10, codes
    assert all(BACKUP_CODE.fullmatch(code) for code in codes), codes


def check_mfa_required(answer: dict[str, Any], configured: dict[str, bool]) -> str:
    """§1.5 after a password: no tokens, a firstFactorToken, the second factors offered
    (`configured`: strategy → isConfiguredByUser). Returns the firstFactorToken."""
    assert answer["message"] == "MFA required", answer
    assert answer["isMfaRequired"] is True
    assert "tokens" not in answer and "redirectTo" not in answer, answer
    assert FIRST_FACTOR_TOKEN.fullmatch(answer["firstFactorToken"]), answer
    assert answer["authentication"]["firstFactor"] == PASSWORD_FACTOR
    offered = {
        f["strategy"]: (f["channel"], f["isConfiguredByUser"])
        for f in answer["authentication"]["secondFactors"]
    }
    expected = {
        "totp": ("authenticator", configured["totp"]),
        "verificationCode": ("sms", configured["verificationCode"]),
    }
    assert offered == expected, answer["authentication"]
    return str(answer["firstFactorToken"])


def check_pending(run: Any, first_factor_token: str) -> None:
    """Between the factors the page held the token and was not signed in."""
    assert run.result["pending"]["isLoggedIn"] is False, run.result["pending"]
    assert run.result["pending"]["needsSecondFactor"] is True
    assert (
        run.result["pending"]["secondFactors"]
        == run.result["first"]["authentication"]["secondFactors"]
    )
    # The password went without a bearer; every second-factor call carried the token.
    (basic,) = run.requested("POST", "/auth/basic")
    assert basic["authorization"] is None
    factor_calls = [
        r
        for r in run.requests
        if r["method"] in ("POST", "PUT") and r["url"].split("?")[0].endswith(("/totp", "/code"))
    ]
    assert factor_calls, str(run)
    assert {r["authorization"] for r in factor_calls} == {f"Bearer {first_factor_token}"}


def two_factor_session(run: Any, browser: Any, second: dict[str, str]) -> None:
    """The run ended signed in, with a session that records both factors."""
    cookies = signed_in(run, browser)
    claims = jwt_claims(cookies[f"access.{browser.tenant_id}"])
    assert claims["authentication"]["firstFactor"] == PASSWORD_FACTOR, claims
    assert claims["authentication"]["secondFactor"] == second, claims
    # One navigation, after the second factor: "MFA required" does not redirect.
    assert run.navigated_to == [browser.page_url(AFTER_LOGIN)]
    assert run.result["after"]["isLoggedIn"] is True
    # Client behaviour (1.1.2): it never drops a used firstFactorToken (only init()
    # does), so the page still "needs a second factor" (§9.5, §11.6 stale tokens).
    assert run.result["after"]["needsSecondFactor"] is True


def enrol(page: Any, email: str) -> Any:
    """Sign up and set up TOTP from the signed-in page (test 1's flow)."""
    run = page.run("signup_enrol_totp", email=email, password=PASSWORD, name="Ada Lovelace")
    assert run.error is None, str(run)
    signed_in(run, page)
    return run


# ---------------------------------------------------------------------------------------
# TOTP


def test_set_up_totp_from_a_signed_in_page(page: Any) -> None:
    email = new_email()
    run = enrol(page, email)
    setup, signup = run.result["setup"], run.result["signup"]
    check_totp_setup(setup, tenant_name("optional"), email)

    # getTotp() used the page's access token; the confirming login sent no token at all
    # (the client has no firstFactorToken and login() never sends the access token).
    (fetch,) = run.requested("GET", "/v0/auth/totp")
    assert fetch["authorization"] == f"Bearer {signup['tokens']['access']['value']}"
    (confirm,) = run.requested("POST", f"/v0/tenants/{page.tenant_id}/auth/totp")
    assert confirm["authorization"] is None
    assert run.result["login"]["tokens"], run.result["login"]
    assert run.user["email"] == email
    assert run.user["userId"] == run.result["userId"]

    # Confirmed: a later page with the new cookies gets the same secret, and the backup
    # codes are not shown again (§9.5 "active TOTP and an access token").
    later = page.run("get_totp", page="/settings", cookies=signed_in(run, page))
    assert later.error is None, str(later)
    assert later.result["totpSecret"] == setup["totpSecret"]
    assert later.result["backupCodes"] == []
    assert later.result["qrCode"].startswith("data:image/png;base64,")


def test_password_then_totp_when_an_admin_requires_mfa(page: Any, api: Any, workspace: Any) -> None:
    email = new_email()
    enrolled = enrol(page, email)
    secret = enrolled.result["setup"]["totpSecret"]

    # TOTP alone does not opt the user in (§11.2): the password still signs in.
    plain = page.run("login_password", email=email, password=PASSWORD)
    signed_in(plain, page)
    assert "firstFactorToken" not in plain.result

    require_mfa(api, workspace, page.tenant_id, enrolled.result["userId"])
    factor = {"method": "totp", "totpSecret": secret, "lastStep": enrolled.result["step"]}
    run = page.run("login_mfa", email=email, password=PASSWORD, factors=[factor])
    assert run.error is None, str(run)
    token = check_mfa_required(run.result["first"], {"totp": True, "verificationCode": False})
    check_pending(run, token)
    (second,) = run.result["attempts"]
    assert second["error"] is None, second
    assert second["result"]["tokens"], second
    assert run.user["email"] == email
    assert run.user["isMfaRequired"] is True
    two_factor_session(run, page, TOTP)


def test_password_then_backup_code_and_a_used_backup_code_is_refused(
    page: Any, api: Any, workspace: Any
) -> None:
    email = new_email()
    enrolled = enrol(page, email)
    codes = enrolled.result["setup"]["backupCodes"]
    require_mfa(api, workspace, page.tenant_id, enrolled.result["userId"])

    run = page.run(
        "login_mfa",
        email=email,
        password=PASSWORD,
        factors=[{"method": "totp", "backupCode": codes[0]}],
    )
    assert run.error is None, str(run)
    token = check_mfa_required(run.result["first"], {"totp": True, "verificationCode": False})
    check_pending(run, token)
    (second,) = run.result["attempts"]
    assert second["error"] is None, second
    two_factor_session(run, page, TOTP)

    # A later sign-in: the used code is refused, the sign-in stays open, and another
    # backup code completes it on the same page with the same firstFactorToken.
    again = page.run(
        "login_mfa",
        email=email,
        password=PASSWORD,
        factors=[
            {"method": "totp", "backupCode": codes[0]},
            {"method": "totp", "backupCode": codes[1].upper()},  # compared lower-cased
        ],
    )
    assert again.error is None, str(again)
    token = check_mfa_required(again.result["first"], {"totp": True, "verificationCode": False})
    check_pending(again, token)
    used, fresh = again.result["attempts"]
    assert used["error"] == "Invalid backup code", used
    assert fresh["error"] is None, fresh
    two_factor_session(again, page, TOTP)


def test_a_replayed_totp_code_is_refused(page: Any, api: Any, workspace: Any) -> None:
    email = new_email()
    enrolled = enrol(page, email)
    setup = enrolled.result["setup"]
    require_mfa(api, workspace, page.tenant_id, enrolled.result["userId"])

    factor = {
        "method": "totp",
        "totpSecret": setup["totpSecret"],
        "lastStep": enrolled.result["step"],
    }
    run = page.run("login_mfa", email=email, password=PASSWORD, factors=[factor])
    assert run.error is None, str(run)
    (used,) = run.result["attempts"]
    assert used["error"] is None, used
    two_factor_session(run, page, TOTP)

    # The same code again, while its time step is still inside the accepted window
    # (current ±1), so only the replay rule can refuse it (RFC 6238 §5.2).
    assert time.time() // TOTP_STEP_SECONDS <= used["step"] + 1, "too slow to test a replay"
    again = page.run(
        "login_mfa",
        email=email,
        password=PASSWORD,
        factors=[
            {"method": "totp", "totpCode": used["totpCode"]},
            {"method": "totp", "backupCode": setup["backupCodes"][0]},
        ],
    )
    assert again.error is None, str(again)
    token = check_mfa_required(again.result["first"], {"totp": True, "verificationCode": False})
    check_pending(again, token)
    replayed, backup = again.result["attempts"]
    assert replayed["error"] == "Invalid TOTP code", replayed
    assert backup["error"] is None, backup  # the refusal left the sign-in open
    two_factor_session(again, page, TOTP)


# ---------------------------------------------------------------------------------------
# SMS code as the second factor


def test_sms_code_as_second_factor(page: Any, api: Any, workspace: Any) -> None:
    email = new_email()
    phone = "+1555" + str(uuid.uuid4().int)[:7]
    signup = page.run("signup", email=email, password=PASSWORD, name="Grace Hopper")
    signed_in(signup, page)
    require_mfa(api, workspace, page.tenant_id, signup.user["userId"])

    # Set-up during sign-in: the user has no second factor yet, so the code goes to the
    # number the page gives, and using it makes that number the user's.
    run = page.run(
        "login_mfa",
        email=email,
        password=PASSWORD,
        factors=[{"method": "sms", "phoneNumber": phone}],
    )
    assert run.error is None, str(run)
    token = check_mfa_required(run.result["first"], {"totp": False, "verificationCode": False})
    check_pending(run, token)
    (second,) = run.result["attempts"]
    assert second["error"] is None, second
    sent = second["sent"]["result"]
    assert sent["channel"] == "sms" and sent["phoneNumber"] == phone, sent
    assert re.fullmatch(r"[0-9]{6}", sent["verificationCode"]), sent
    (send,) = run.requested("POST", f"/v0/tenants/{page.tenant_id}/auth/code")
    assert send["authorization"] == f"Bearer {token}"
    two_factor_session(run, page, SMS)
    assert run.user["phoneNumber"] == phone
    assert run.user["confirmedPhoneNumberAt"]

    # Next time the verified phone is offered as configured; the page sends no number.
    again = page.run("login_mfa", email=email, password=PASSWORD, factors=[{"method": "sms"}])
    assert again.error is None, str(again)
    token = check_mfa_required(again.result["first"], {"totp": False, "verificationCode": True})
    check_pending(again, token)
    (second,) = again.result["attempts"]
    assert second["error"] is None, second
    assert second["sent"]["result"]["phoneNumber"] == phone
    two_factor_session(again, page, SMS)


# ---------------------------------------------------------------------------------------
# mfa.policy "all": enrolment during sign-up


def test_enrol_totp_during_sign_up_under_policy_all(strict_page: Any) -> None:
    email = new_email()
    run = strict_page.run(
        "signup_mfa_enrol_totp", email=email, password=PASSWORD, name="Ada Lovelace"
    )
    assert run.error is None, str(run)
    result = run.result

    # The sign-up itself answers "MFA required", with nothing set up yet.
    token = check_mfa_required(result["signup"], {"totp": False, "verificationCode": False})
    assert result["pending"] == {
        "isLoggedIn": False,
        "needsSecondFactor": True,
        "secondFactors": result["signup"]["authentication"]["secondFactors"],
    }
    check_totp_setup(result["setup"], tenant_name("all"), email)
    assert result["login"]["tokens"], result["login"]
    cookies = signed_in(run, strict_page)
    claims = jwt_claims(cookies[f"access.{strict_page.tenant_id}"])
    assert claims["authentication"]["secondFactor"] == TOTP, claims
    assert run.user["email"] == email
    assert result["after"]["isLoggedIn"] is True

    # Both getTotp() calls and the TOTP login carried the firstFactorToken: the client
    # still holds it after the sign-in completed (§9.5 "stale firstFactorToken").
    fetches = run.requested("GET", "/v0/auth/totp")
    assert [r["authorization"] for r in fetches] == [f"Bearer {token}"] * 2
    (confirm,) = run.requested("POST", f"/v0/tenants/{strict_page.tenant_id}/auth/totp")
    assert confirm["authorization"] == f"Bearer {token}"
    # The used token, while its session lives, reads the TOTP like the access token.
    again = result["again"]
    assert again["error"] is None, again
    assert again["result"]["totpSecret"] == result["setup"]["totpSecret"]
    assert again["result"]["backupCodes"] == []

    # A later sign-in: password → "MFA required" (TOTP now configured) → TOTP.
    factor = {
        "method": "totp",
        "totpSecret": result["setup"]["totpSecret"],
        "lastStep": result["step"],
    }
    later = strict_page.run("login_mfa", email=email, password=PASSWORD, factors=[factor])
    assert later.error is None, str(later)
    token = check_mfa_required(later.result["first"], {"totp": True, "verificationCode": False})
    check_pending(later, token)
    (second,) = later.result["attempts"]
    assert second["error"] is None, second
    # A user who signs up under policy "all" is created with isMfaRequired on.
    assert later.user["isMfaRequired"] is True
    two_factor_session(later, strict_page, TOTP)
