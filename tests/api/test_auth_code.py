"""Verification codes by SMS and email (api-client §6.3, §7.6, §7.7)."""

from __future__ import annotations

import pytest
from authkit import claims, error, new_tenant, sign_up, tokens, unique_email, unique_phone

INVALID = "Invalid verificationCode"


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="Code tests")


def _send(client, tenant: str, **body) -> dict:
    response = client.post(f"/v0/tenants/{tenant}/auth/code", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _verify(client, tenant: str, **body):
    return client.put(f"/v0/tenants/{tenant}/auth/code", json=body)


def test_sms_sign_up_and_log_in(client, tenant) -> None:
    phone = unique_phone()
    body = _send(client, tenant, channel="sms", phoneNumber=phone, name="Sam")
    assert body["message"] == "OK"
    assert body["result"]["channel"] == "sms" and body["result"]["phoneNumber"] == phone
    code = body["result"]["verificationCode"]
    assert len(code) == 6 and code.isdigit()
    signed_in = _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=code)
    assert signed_in.status_code == 200, signed_in.text
    data = signed_in.json()
    assert data["phoneNumber"] == phone and data["name"] == "Sam"
    assert data["isPhoneNumberConfirmed"] is True
    assert "firstFactorToken" not in data
    factor = claims(tokens(data)[0])["authentication"]["firstFactor"]
    assert factor == {"strategy": "verificationCode", "channel": "sms"}


def test_email_code_for_an_existing_user_confirms_the_address(client, tenant) -> None:
    email = unique_email("code")
    created = sign_up(client, tenant, email)
    body = _send(client, tenant, channel="email", email=email)
    assert body["result"]["email"] == email and body["result"]["channel"] == "email"
    code = body["result"]["verificationCode"]
    signed_in = _verify(client, tenant, channel="email", email=email, verificationCode=code)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["userId"] == created["userId"]
    assert signed_in.json()["isEmailConfirmed"] is True


def test_codes_are_single_use_and_bound_to_their_target(client, tenant) -> None:
    phone = unique_phone()
    code = _send(client, tenant, channel="sms", phoneNumber=phone)["result"]["verificationCode"]
    other = unique_phone()
    error(_verify(client, tenant, channel="sms", phoneNumber=other, verificationCode=code), 400)
    error(
        _verify(client, tenant, channel="email", email=unique_email(), verificationCode=code),
        400,
        INVALID,
    )
    ok = _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=code)
    assert ok.status_code == 200
    again = _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=code)
    error(again, 400, INVALID)


def test_a_new_code_voids_the_previous_one(client, tenant) -> None:
    phone = unique_phone()
    first = _send(client, tenant, channel="sms", phoneNumber=phone)["result"]["verificationCode"]
    second = _send(client, tenant, channel="sms", phoneNumber=phone)["result"]["verificationCode"]
    if first != second:
        error(
            _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=first),
            400,
            INVALID,
        )
    ok = _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=second)
    assert ok.status_code == 200


def test_five_wrong_guesses_void_the_code(client, tenant) -> None:
    phone = unique_phone()
    code = _send(client, tenant, channel="sms", phoneNumber=phone)["result"]["verificationCode"]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        error(
            _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=wrong),
            400,
            INVALID,
        )
    right = _verify(client, tenant, channel="sms", phoneNumber=phone, verificationCode=code)
    error(right, 400, INVALID)


def test_unknown_target_and_malformed_code_answer_the_same(client, tenant) -> None:
    unknown = _verify(
        client, tenant, channel="sms", phoneNumber=unique_phone(), verificationCode="123456"
    )
    malformed = _verify(
        client, tenant, channel="sms", phoneNumber=unique_phone(), verificationCode="12ab"
    )
    error(unknown, 400, INVALID)
    assert unknown.content == malformed.content


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"phoneNumber": "+15555550100"}, 'channel must be "sms" or "email"'),
        ({"channel": "fax", "phoneNumber": "+15555550100"}, 'channel must be "sms" or "email"'),
        ({"channel": "sms"}, "phoneNumber is required"),
        ({"channel": "sms", "phoneNumber": "5550100"}, "Phone number must be in E.164 format."),
        ({"channel": "email"}, "email is required"),
        ({"channel": "email", "email": "bad"}, "Email format is invalid"),
    ],
)
def test_send_code_validation(client, tenant, body, message) -> None:
    error(client.post(f"/v0/tenants/{tenant}/auth/code", json=body), 400, message)


def test_verify_code_validation(client, tenant) -> None:
    error(
        _verify(client, tenant, channel="sms", phoneNumber=unique_phone()),
        400,
        "verificationCode is required",
    )
    error(
        _verify(client, tenant, channel="x", verificationCode="123456"),
        400,
        'channel must be "sms" or "email"',
    )


def test_sms_sign_up_with_an_email_owned_by_someone_else(client, tenant) -> None:
    email = unique_email("owned")
    sign_up(client, tenant, email)
    response = client.post(
        f"/v0/tenants/{tenant}/auth/code",
        json={"channel": "sms", "phoneNumber": unique_phone(), "email": email},
    )
    error(response, 400, "Email exists")


def test_code_attempts_lock_the_code_factor(client, base_url, workspace) -> None:
    limited = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"rateLimits": {"attemptsPerAccount": {"limit": 2, "windowSeconds": 900}}},
    )
    phone = unique_phone()
    _send(client, limited, channel="sms", phoneNumber=phone)
    for _ in range(2):
        error(
            _verify(client, limited, channel="sms", phoneNumber=phone, verificationCode="999999"),
            400,
        )
    locked = _verify(client, limited, channel="sms", phoneNumber=phone, verificationCode="999999")
    error(locked, 429, "Too many requests, please try again later")
    assert "Retry-After" in locked.headers
