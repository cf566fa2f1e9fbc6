"""SMS and email verification codes as second factors (api-client §7.6, §7.7, §11.4,
§11.6): set-up of SMS during sign-in, use of a configured phone, the token's rules
(allowed channels, matching identifiers, failures, single use, tenant binding)."""

from __future__ import annotations

import uuid

import pyotp
import pytest
from authkit import (
    PASSWORD,
    bearer,
    claims,
    error,
    log_in,
    new_tenant,
    outbox,
    sign_up,
    tokens,
    unique_email,
    unique_phone,
)

SMS = {"strategy": "verificationCode", "channel": "sms"}
EMAIL_CODE = {"strategy": "verificationCode", "channel": "email"}
TOTP = {"strategy": "totp", "channel": "authenticator"}
PASSWORD_FACTOR = {"strategy": "password", "channel": "email"}
INVALID = "Invalid verificationCode"
NOT_ALLOWED = "This factor is not allowed as a second factor"


def _settings() -> dict:
    return {
        "authentication": {
            "firstFactors": [
                PASSWORD_FACTOR,
                {"strategy": "link", "channel": "email"},
                EMAIL_CODE,
                SMS,
            ],
            "secondFactors": [
                {"channel": "sms", "strategy": "verificationCode"},
                {"channel": "email", "strategy": "verificationCode"},
                {"channel": "authenticator", "strategy": "totp"},
            ],
        },
        "mfa": {"policy": "all"},
    }


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), _settings(), name="MFA codes")


@pytest.fixture(scope="module")
def other_tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), _settings(), name="MFA other")


def _send(client, tenant: str, token: str | None = None, **body):
    headers = bearer(token) if token else None
    return client.post(f"/v0/tenants/{tenant}/auth/code", json=body, headers=headers)


def _verify(client, tenant: str, token: str | None = None, **body):
    headers = bearer(token) if token else None
    return client.put(f"/v0/tenants/{tenant}/auth/code", json=body, headers=headers)


def _sent_code(response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["result"]["verificationCode"]


def _mfa_required(response) -> dict:
    """§1.5: 200, a fresh first-factor token, and never `tokens`."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "MFA required" and body["isMfaRequired"] is True
    assert "tokens" not in body and "redirectTo" not in body
    assert body["firstFactorToken"].startswith("uf_test_first_factor_")
    return body


def _signed_in(response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "firstFactorToken" not in body and body["message"] == "OK"
    tokens(body)
    return body


def _password_step(client, tenant: str, email: str) -> dict:
    return _mfa_required(log_in(client, tenant, email))


def _user_with_phone(client, tenant: str) -> tuple[str, str]:
    """A password user who set up SMS during a sign-in: (email, phone)."""
    email, phone = unique_email("mfa"), unique_phone()
    sign_up(client, tenant, email)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    code = _sent_code(_send(client, tenant, token, channel="sms", phoneNumber=phone))
    _signed_in(_verify(client, tenant, token, channel="sms", verificationCode=code))
    return email, phone


def test_sms_set_up_during_sign_in_then_used_as_second_factor(client, tenant) -> None:
    email, phone = unique_email("setup"), unique_phone()
    created = sign_up(client, tenant, email)  # a new sign-up needs a second factor (§11.3)
    assert created["message"] == "MFA required" and "tokens" not in created
    step = _password_step(client, tenant, email)
    assert step["authentication"]["firstFactor"] == PASSWORD_FACTOR
    offered = {f["channel"]: f for f in step["authentication"]["secondFactors"]}
    assert set(offered) == {"sms", "authenticator"}  # not email: the password's channel
    assert offered["sms"]["isConfiguredByUser"] is False
    token = step["firstFactorToken"]

    sent = _send(client, tenant, token, channel="sms", phoneNumber=phone)
    assert sent.status_code == 200, sent.text
    assert sent.json()["result"]["phoneNumber"] == phone
    assert sent.json()["result"]["channel"] == "sms"
    code = sent.json()["result"]["verificationCode"]
    data = _signed_in(_verify(client, tenant, token, channel="sms", verificationCode=code))
    assert data["email"] == email
    assert data["phoneNumber"] == phone and data["isPhoneNumberConfirmed"] is True
    authentication = claims(tokens(data)[0])["authentication"]
    assert authentication["firstFactor"] == PASSWORD_FACTOR
    assert authentication["secondFactor"] == SMS
    me = client.get("/v0/self", headers=bearer(tokens(data)[0]))
    assert me.status_code == 200, me.text
    assert me.json()["preferredSecondFactor"] == SMS
    assert me.json()["phoneNumber"] == phone and me.json()["isPhoneNumberConfirmed"] is True

    # The next sign-in offers the configured phone, and a send needs no number.
    step = _password_step(client, tenant, email)
    first = step["authentication"]["secondFactors"][0]
    assert first == {**SMS, "isConfiguredByUser": True, "isPreferredByUser": True}
    token = step["firstFactorToken"]
    code = _sent_code(_send(client, tenant, token, channel="sms"))
    again = _signed_in(_verify(client, tenant, token, channel="sms", verificationCode=code))
    assert again["userId"] == data["userId"]


def test_the_set_up_number_cannot_be_another_users(client, tenant) -> None:
    _, taken = _user_with_phone(client, tenant)
    email = unique_email()
    sign_up(client, tenant, email)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    error(
        _send(client, tenant, token, channel="sms", phoneNumber=taken), 400, "Phone number exists"
    )
    error(
        _send(client, tenant, token, channel="sms"),
        400,
        '"phoneNumber" not found or not yet verified',
    )


def test_a_configured_phone_cannot_be_replaced_during_sign_in(client, tenant) -> None:
    email, phone = _user_with_phone(client, tenant)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    other = unique_phone()
    error(
        _send(client, tenant, token, channel="sms", phoneNumber=other),
        400,
        "phoneNumber does not match",
    )
    # Naming the configured number is fine; a PUT naming another one is refused.
    code = _sent_code(_send(client, tenant, token, channel="sms", phoneNumber=phone))
    error(
        _verify(client, tenant, token, channel="sms", phoneNumber=other, verificationCode=code),
        400,
        "phoneNumber does not match",
    )
    error(
        _verify(client, tenant, token, channel="sms", email=unique_email(), verificationCode=code),
        400,
        "email does not match",
    )
    ok = _verify(
        client, tenant, token, channel="sms", phoneNumber=phone, email=email, verificationCode=code
    )
    _signed_in(ok)


def test_the_first_factors_channel_is_not_a_second_factor(client, tenant) -> None:
    email, _ = _user_with_phone(client, tenant)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    error(_send(client, tenant, token, channel="email"), 400, NOT_ALLOWED)
    error(_send(client, tenant, token, channel="email", email=email), 400, NOT_ALLOWED)
    error(
        _verify(client, tenant, token, channel="email", verificationCode="123456"), 400, NOT_ALLOWED
    )
    error(_send(client, tenant, token, channel="push"), 400, 'channel must be "sms" or "email"')
    # The token still works for an allowed factor.
    code = _sent_code(_send(client, tenant, token, channel="sms"))
    _signed_in(_verify(client, tenant, token, channel="sms", verificationCode=code))


def test_email_code_as_second_factor_after_an_sms_sign_up(client, tenant) -> None:
    """An SMS sign-up (phone and email both unproved) then the email code: both become
    confirmed — the SMS proof's deferred claim does not drop the email just proved."""
    phone, email = unique_phone(), unique_email("smsfirst")
    code = _sent_code(_send(client, tenant, channel="sms", phoneNumber=phone, email=email))
    step = _mfa_required(
        _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=code)
    )
    assert step["authentication"]["firstFactor"] == SMS
    offered = {f["channel"] for f in step["authentication"]["secondFactors"]}
    assert offered == {"email", "authenticator"}
    token = step["firstFactorToken"]
    error(_send(client, tenant, token, channel="sms"), 400, NOT_ALLOWED)
    error(
        _send(client, tenant, token, channel="email", email=unique_email()),
        400,
        "email does not match",
    )
    sent = _send(client, tenant, token, channel="email")
    assert sent.status_code == 200, sent.text
    assert sent.json()["result"]["email"] == email
    code = sent.json()["result"]["verificationCode"]
    data = _signed_in(_verify(client, tenant, token, channel="email", verificationCode=code))
    assert data["phoneNumber"] == phone and data["isPhoneNumberConfirmed"] is True
    assert data["email"] == email and data["isEmailConfirmed"] is True
    me = client.get("/v0/self", headers=bearer(tokens(data)[0])).json()
    assert me["email"] == email and me["phoneNumber"] == phone
    assert me["preferredSecondFactor"] == EMAIL_CODE


def test_wrong_codes_keep_the_token_until_the_fifth(client, tenant) -> None:
    email, phone = _user_with_phone(client, tenant)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    code = _sent_code(_send(client, tenant, token, channel="sms"))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        error(_verify(client, tenant, token, channel="sms", verificationCode=wrong), 400, INVALID)
    _signed_in(_verify(client, tenant, token, channel="sms", verificationCode=code))

    # Five failures over two codes: the token dies, the second code is still good.
    token = _password_step(client, tenant, email)["firstFactorToken"]
    first = _sent_code(_send(client, tenant, token, channel="sms"))
    for _ in range(3):
        bad = f"{(int(first) + 1) % 1_000_000:06d}"
        error(_verify(client, tenant, token, channel="sms", verificationCode=bad), 400, INVALID)
    second = _sent_code(_send(client, tenant, token, channel="sms"))  # still usable
    bad = f"{(int(second) + 1) % 1_000_000:06d}"
    for _ in range(2):
        error(_verify(client, tenant, token, channel="sms", verificationCode=bad), 400, INVALID)
    # §11.6: a dead token is ignored, the request is a first factor: without a number
    # it is incomplete; with it, the right code is a first factor and asks for a second.
    error(
        _verify(client, tenant, token, channel="sms", verificationCode=second),
        400,
        "phoneNumber is required",
    )
    error(_send(client, tenant, token, channel="sms"), 400, "phoneNumber is required")
    step = _mfa_required(
        _verify(client, tenant, token, channel="sms", phoneNumber=phone, verificationCode=second)
    )
    assert step["firstFactorToken"] != token
    assert step["authentication"]["firstFactor"] == SMS


def test_a_token_is_used_once(client, tenant) -> None:
    email, phone = _user_with_phone(client, tenant)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    code = _sent_code(_send(client, tenant, token, channel="sms"))
    _signed_in(_verify(client, tenant, token, channel="sms", verificationCode=code))
    # The client keeps sending the used token: it is ignored (a first factor), never 401.
    error(_send(client, tenant, token, channel="sms"), 400, "phoneNumber is required")
    fresh = _sent_code(_send(client, tenant, token, channel="sms", phoneNumber=phone))
    error(
        _verify(client, tenant, token, channel="sms", verificationCode=fresh),
        400,
        "phoneNumber is required",
    )
    step = _mfa_required(
        _verify(client, tenant, token, channel="sms", phoneNumber=phone, verificationCode=fresh)
    )
    assert step["firstFactorToken"] != token


def test_a_token_speaks_for_its_own_user_tenant_and_mode(client, tenant, other_tenant) -> None:
    email, _ = _user_with_phone(client, tenant)
    _, someone_else = _user_with_phone(client, tenant)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    # Another user's number: refused, and nothing is sent to it.
    error(
        _send(client, tenant, token, channel="sms", phoneNumber=someone_else),
        400,
        "phoneNumber does not match",
    )
    theirs = _sent_code(_send(client, tenant, channel="sms", phoneNumber=someone_else))
    error(
        _verify(
            client, tenant, token, channel="sms", phoneNumber=someone_else, verificationCode=theirs
        ),
        400,
        "phoneNumber does not match",
    )
    # Another tenant, another mode: 401.
    error(_send(client, other_tenant, token, channel="sms"), 401, "Invalid token")
    error(
        _verify(client, other_tenant, token, channel="sms", verificationCode="123456"),
        401,
        "Invalid token",
    )
    live = f"uf_live_first_factor_{uuid.uuid4().hex}"
    error(_send(client, tenant, live, channel="sms"), 401, "Invalid token")
    error(
        _verify(client, tenant, "uf_test_first_factor_xyz", channel="sms", verificationCode="1"),
        401,
        "Invalid token",
    )


def test_the_legacy_path_takes_the_token_too(client, tenant) -> None:
    email, _ = _user_with_phone(client, tenant)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    sent = client.post(
        "/v0/auth/code", json={"channel": "sms", "tenantId": tenant}, headers=bearer(token)
    )
    code = _sent_code(sent)
    done = client.put(
        "/v0/auth/code",
        json={"channel": "sms", "verificationCode": code, "tenantId": tenant},
        headers=bearer(token),
    )
    _signed_in(done)


def test_no_first_factor_alone_yields_tokens(client, tenant) -> None:
    email, phone = _user_with_phone(client, tenant)
    step = _password_step(client, tenant, email)
    token = step["firstFactorToken"]
    # A password again, with the pending token of the same user: still one factor.
    response = client.post(
        f"/v0/tenants/{tenant}/auth/basic",
        json={"emailOrUsername": email, "password": PASSWORD},
        headers=bearer(token),
    )
    assert _mfa_required(response)["firstFactorToken"] != token
    # An SMS code as a first factor (no token) asks for a second factor as well.
    code = _sent_code(_send(client, tenant, channel="sms", phoneNumber=phone))
    _mfa_required(_verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=code))
    # A set-up is refused once a second factor is configured: no new phone for it.
    fresh = _password_step(client, tenant, email)["firstFactorToken"]
    error(
        _send(client, tenant, fresh, channel="sms", phoneNumber=unique_phone()),
        400,
        "phoneNumber does not match",
    )


def _totp_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def test_set_up_is_refused_once_another_second_factor_is_configured(client, tenant) -> None:
    email = unique_email("hastotp")
    token = sign_up(client, tenant, email)["firstFactorToken"]
    setup = client.get("/v0/auth/totp", headers=bearer(token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["totpSecret"]
    done = client.post(
        f"/v0/tenants/{tenant}/auth/totp",
        json={"totpCode": _totp_code(secret)},
        headers=bearer(token),
    )
    _signed_in(done)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    error(
        _send(client, tenant, token, channel="sms", phoneNumber=unique_phone()),
        403,
        "A second factor is already set up",
    )
    error(
        _send(client, tenant, token, channel="sms"),
        400,
        '"phoneNumber" not found or not yet verified',
    )


def test_an_unproved_email_is_a_new_second_factor(client, tenant) -> None:
    """A user with a phone and an authenticator whose email was never proved: after an
    SMS first factor the email code would be a new factor, refused (§11.6)."""
    email, phone = _user_with_phone(client, tenant)  # password + SMS; email unproved
    token = _password_step(client, tenant, email)["firstFactorToken"]
    code = _sent_code(_send(client, tenant, token, channel="sms"))
    access = tokens(
        _signed_in(_verify(client, tenant, token, channel="sms", verificationCode=code))
    )[0]
    assert client.get("/v0/self", headers=bearer(access)).json()["isEmailConfirmed"] is False
    setup = client.get("/v0/auth/totp", headers=bearer(access))
    assert setup.status_code == 200, setup.text
    activated = client.post(
        f"/v0/tenants/{tenant}/auth/totp",
        json={"emailOrUsername": email, "totpCode": _totp_code(setup.json()["totpSecret"])},
    )
    assert activated.status_code == 200, activated.text

    code = _sent_code(_send(client, tenant, channel="sms", phoneNumber=phone))
    step = _mfa_required(
        _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=code)
    )
    offered = {
        f["channel"]: f["isConfiguredByUser"] for f in step["authentication"]["secondFactors"]
    }
    assert offered == {"email": False, "authenticator": True}
    token = step["firstFactorToken"]
    error(_send(client, tenant, token, channel="email"), 403, "A second factor is already set up")


def test_live_mode_texts_the_code(client, base_url, workspace) -> None:
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    settings = {**_settings(), "liveDomains": [{"domain": domain}]}
    live_tenant = new_tenant(base_url, workspace.key("live", "admin"), settings, name="MFA live")
    live = {"Origin": f"https://app.{domain}"}
    email, phone = unique_email("live-mfa"), unique_phone()
    created = client.post(
        f"/v0/tenants/{live_tenant}/auth/create",
        json={"email": email, "password": PASSWORD, "options": {"noSignupEmail": True}},
        headers=live,
    )
    assert created.status_code == 200, created.text
    token = created.json()["firstFactorToken"]
    assert token.startswith("uf_live_first_factor_") and "tokens" not in created.json()
    # A test-mode token on a live request is 401.
    test_token = f"uf_test_first_factor_{uuid.uuid4().hex}"
    error(
        client.post(
            f"/v0/tenants/{live_tenant}/auth/code",
            json={"channel": "sms"},
            headers={**live, **bearer(test_token)},
        ),
        401,
        "Invalid token",
    )
    sent = client.post(
        f"/v0/tenants/{live_tenant}/auth/code",
        json={"channel": "sms", "phoneNumber": phone},
        headers={**live, **bearer(token)},
    )
    assert sent.status_code == 200, sent.text
    result = sent.json()["result"]
    assert "verificationCode" not in result and result["phoneNumber"] == phone
    assert result["submittedAt"] and result["messageId"]
    texts = outbox(client, phone, "sms")
    assert len(texts) == 1
    words = texts[0]["text"].replace(".", " ").split()
    code = next(w for w in words if w.isdigit() and len(w) == 6)
    done = client.put(
        f"/v0/tenants/{live_tenant}/auth/code",
        json={"channel": "sms", "verificationCode": code},
        headers={**live, **bearer(token)},
    )
    data = _signed_in(done)
    assert data["mode"] == "live" and data["phoneNumber"] == phone


def test_the_last_number_set_up_is_the_one_verified(client, tenant) -> None:
    email = unique_email("twonumbers")
    sign_up(client, tenant, email)
    token = _password_step(client, tenant, email)["firstFactorToken"]
    first, second = unique_phone(), unique_phone()
    first_code = _sent_code(_send(client, tenant, token, channel="sms", phoneNumber=first))
    second_code = _sent_code(_send(client, tenant, token, channel="sms", phoneNumber=second))
    error(
        _verify(
            client, tenant, token, channel="sms", phoneNumber=first, verificationCode=first_code
        ),
        400,
        "phoneNumber does not match",
    )
    # Another sign-in of the same user cannot finish this one's set-up either.
    other = _password_step(client, tenant, email)["firstFactorToken"]
    error(
        _verify(client, tenant, other, channel="sms", verificationCode=second_code),
        400,
        '"phoneNumber" not found or not yet verified',
    )
    data = _signed_in(_verify(client, tenant, token, channel="sms", verificationCode=second_code))
    assert data["phoneNumber"] == second and data["isPhoneNumberConfirmed"] is True
