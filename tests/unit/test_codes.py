"""Verification codes: shape, storage as hashes only, single use, attempts, expiry."""

from __future__ import annotations

import re
import time

import pytest

from portcullis.credentials import codes
from portcullis.platform.errors import BadRequest
from portcullis.store import codes as store

TENANT = "codeunit"


def _issue(target: str, channel: str = "sms", **kwargs) -> str:
    code, item = codes.new_code("test", TENANT, channel, target, user_id=7, **kwargs)
    item.save()
    return code


def _target() -> str:
    return f"+1555{time.time_ns() % 10**7:07d}"


def test_codes_are_six_digits() -> None:
    generated = {codes.generate() for _ in range(200)}
    assert all(re.fullmatch(r"[0-9]{6}", c) for c in generated)
    assert len(generated) > 150


def test_only_a_hash_is_stored(aws: str) -> None:
    target = _target()
    code = _issue(target)
    item = store.get("test", TENANT, "sms", target)
    assert item is not None
    assert code not in item.codeHash and item.codeHash.startswith("$argon2id$")
    assert target not in item.pk
    assert int(item.expiresAt) - int(time.time()) in range(595, 601)
    assert item.ttl == item.expiresAt


def test_redeem_once(aws: str) -> None:
    target = _target()
    code = _issue(target, pending_phone_number="+15550000000")
    item = codes.redeem("test", TENANT, "sms", target, code)
    assert int(item.userId) == 7 and item.pendingPhoneNumber == "+15550000000"
    with pytest.raises(BadRequest, match="Invalid verificationCode"):
        codes.redeem("test", TENANT, "sms", target, code)


def test_code_is_bound_to_mode_channel_and_target(aws: str) -> None:
    target = _target()
    code = _issue(target)
    for mode, channel, other in (
        ("live", "sms", target),
        ("test", "email", target),
        ("test", "sms", _target()),
    ):
        with pytest.raises(BadRequest):
            codes.redeem(mode, TENANT, channel, other, code)
    assert codes.redeem("test", TENANT, "sms", target, code)


def test_five_wrong_guesses_void_the_code(aws: str) -> None:
    target = _target()
    code = _issue(target)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(codes.MAX_ATTEMPTS):
        with pytest.raises(BadRequest):
            codes.redeem("test", TENANT, "sms", target, wrong)
    with pytest.raises(BadRequest):
        codes.redeem("test", TENANT, "sms", target, code)


def test_a_new_code_replaces_the_old_one(aws: str) -> None:
    target = _target()
    first = _issue(target)
    second = _issue(target)
    if first != second:
        with pytest.raises(BadRequest):
            codes.redeem("test", TENANT, "sms", target, first)
    assert codes.redeem("test", TENANT, "sms", target, second)


def test_expired_codes_are_refused(aws: str) -> None:
    target = _target()
    code = _issue(target)
    item = store.get("test", TENANT, "sms", target)
    assert item is not None
    item.update(actions=[store.CodeItem.expiresAt.set(int(time.time()) - 1)])
    with pytest.raises(BadRequest):
        codes.redeem("test", TENANT, "sms", target, code)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", " 123456"])
def test_malformed_codes_are_the_same_error(aws: str, bad: str) -> None:
    target = _target()
    _issue(target)
    with pytest.raises(BadRequest, match="Invalid verificationCode"):
        codes.redeem("test", TENANT, "sms", target, bad)
