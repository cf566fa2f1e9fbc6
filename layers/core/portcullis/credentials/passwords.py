"""Password hashing: argon2id at or above OWASP's minimum (m=19 MiB, t=2, p=1).

Unknown accounts are verified against a dummy hash so that "no such user" and
"wrong password" take the same time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from portcullis.platform.errors import BadRequest

if TYPE_CHECKING:
    from argon2 import PasswordHasher

POLICY_MESSAGE = (
    "Password must be at least 16 characters OR at least 8 characters including a number "
    "and a letter"
)
TEST_MODE_PASSWORDS = frozenset({"test", "dev", "password"})
MAX_LENGTH = 128


@cache
def _hasher() -> PasswordHasher:
    """argon2 is imported on first use: most functions import this module (through
    `users`, `selfservice`) for routes that never hash, and it costs every cold start a
    few ms (docs/performance.md "Cold start")."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, hash_len=32, salt_len=16)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher().hash("portcullis-dummy-password-for-timing")


def verify(stored_hash: str | None, password: str) -> bool:
    """Constant-effort check; a missing hash still costs one argon2 verification."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    hasher = _hasher()
    try:
        return hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    from argon2.exceptions import InvalidHashError

    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def check_policy(password: str, mode: str) -> None:
    """≥16 chars, or ≥8 with a letter and a digit; test mode also allows the reserved words."""
    if mode == "test" and password in TEST_MODE_PASSWORDS:
        return
    if len(password) > MAX_LENGTH:
        raise BadRequest(f'"password" must contain at most {MAX_LENGTH} characters')
    long_enough = len(password) >= 16
    mixed = len(password) >= 8 and re.search(r"[A-Za-z]", password) and re.search(r"\d", password)
    if not (long_enough or mixed):
        raise BadRequest(POLICY_MESSAGE)


def stored_form(value: str | Mapping[str, Any], *, allow_weak: bool = False) -> str:
    """What an imported `passwordHash` (api-server §1.10, concepts §7.4) is stored as on the
    user, so that `verify` checks it natively and `needs_rehash` upgrades it at the next
    log-in. Raises BadRequest naming the problem for a hash it does not accept.

    Only argon2 PHC strings so far; the other formats of concepts §7.4 are issue 12's."""
    if isinstance(value, str) and value.startswith(("$argon2id$", "$argon2i$", "$argon2d$")):
        return value
    raise BadRequest('"passwordHash" has an unrecognised format')
