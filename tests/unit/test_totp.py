"""credentials/totp.py: RFC 6238 steps, the ±1 window, backup code shapes and digests."""

from __future__ import annotations

import base64

import pyotp
import pytest

from portcullis.credentials import totp

AT = 1_800_000_015  # the middle of a 30-second step


def test_secrets_are_160_bits_of_base32() -> None:
    secrets = {totp.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert len(secret) == 32 and len(base64.b32decode(secret)) == 20


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_current_step_and_its_neighbours_match(offset: int) -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(AT + offset * 30)
    assert totp.matching_step(secret, code, AT) == AT // 30 + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_steps_outside_the_window_do_not(offset: int) -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(AT + offset * 30)
    window = {pyotp.TOTP(secret).at(AT + o * 30) for o in (-1, 0, 1)}
    if code not in window:  # a 6-digit collision is possible, not a failure
        assert totp.matching_step(secret, code, AT) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_never_match(code: str) -> None:
    assert totp.matching_step(totp.new_secret(), code, AT) is None


def test_spaces_inside_a_code_are_ignored() -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(AT)
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", AT) == AT // 30


def test_backup_codes_shape_and_normalisation() -> None:
    codes = totp.new_backup_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        assert totp.normalise_backup_code(code) == code
        assert totp.normalise_backup_code(f"  {code.upper()} ") == code
        assert totp.normalise_backup_code(code.replace("-", "")) == code
    assert totp.normalise_backup_code("zzzzz-zzzzz") is None
    assert totp.normalise_backup_code("12345-123456") is None


def test_backup_digests_are_keyed_by_the_secret() -> None:
    code = totp.new_backup_codes(1)[0]
    one, other = totp.new_secret(), totp.new_secret()
    assert totp.backup_digest(one, code) == totp.backup_digest(one, code)
    assert totp.backup_digest(one, code) != totp.backup_digest(other, code)
    assert code not in totp.backup_digest(one, code)


def test_provisioning_uri_escapes_the_label() -> None:
    uri = totp.provisioning_uri("ABC", "Acme & Co", "a+b@example.com")
    assert uri == (
        "otpauth://totp/Acme%20%26%20Co:a%2Bb@example.com?secret=ABC&issuer=Acme%20%26%20Co"
        "&algorithm=SHA1&digits=6&period=30"
    )
    parsed = pyotp.parse_uri(uri.replace("ABC", totp.new_secret()))
    assert parsed.issuer == "Acme & Co" and parsed.name == "a+b@example.com"
