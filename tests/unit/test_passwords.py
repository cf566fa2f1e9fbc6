import pytest

from portcullis.credentials import passwords
from portcullis.platform.errors import BadRequest


def test_hash_is_argon2id_with_owasp_parameters() -> None:
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in stored
    assert passwords.verify(stored, "correct horse battery")
    assert not passwords.verify(stored, "wrong")


def test_missing_hash_never_verifies() -> None:
    assert not passwords.verify(None, "portcullis-dummy-password-for-timing")


@pytest.mark.parametrize("password", ["abcdefg1", "a" * 16, "P4ssword-long-enough"])
def test_policy_accepts(password: str) -> None:
    passwords.check_policy(password, "live")


@pytest.mark.parametrize("password", ["abcdefgh", "12345678", "short1", "a" * 129])
def test_policy_rejects(password: str) -> None:
    with pytest.raises(BadRequest):
        passwords.check_policy(password, "live")


@pytest.mark.parametrize("password", ["test", "dev", "password"])
def test_reserved_passwords_only_in_test_mode(password: str) -> None:
    passwords.check_policy(password, "test")
    with pytest.raises(BadRequest, match="at least 16 characters"):
        passwords.check_policy(password, "live")


def test_needs_rehash_for_weaker_parameters() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("x")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("x"))
