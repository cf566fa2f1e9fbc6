"""Password hashing: argon2id at or above OWASP's minimum (m=19 MiB, t=2, p=1).

Unknown accounts are verified against a dummy hash so that "no such user" and
"wrong password" take the same time.

Imported users may hold another system's hash (13 formats, `hashformats`): `verify`
checks it natively and `needs_rehash` is true for it, so the first successful log-in
stores argon2id in its place (auth/password.py).
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
# The stored forms of the weak imported formats (`hashformats`: those parsed as `weak`),
# spelled out here so that asking costs no import.
WEAK_PREFIXES = ("$1$", "$pc-sha256$", "$pc-sha512$")


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
    """Constant-effort check; a missing hash still costs one argon2 verification.
    Imported formats (anything but argon2) are verified by `hashformats`, each at the
    cost its parameters set."""
    if stored_hash is not None and not stored_hash.startswith("$argon2"):
        from portcullis.credentials import hashformats  # bcrypt, libpass: imported users only

        matched = hashformats.verify(stored_hash, password)
        if matched is not None:
            return matched
        stored_hash = None  # no format fits (never stored by us): as costly as no hash
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    hasher = _hasher()
    try:
        return hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True for every hash but argon2id with today's parameters: imported formats are
    replaced at the first successful log-in."""
    from argon2.exceptions import InvalidHashError

    if not stored_hash.startswith("$argon2id$"):
        return True
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def is_weak(stored_hash: str | None) -> bool:
    """A weak imported format (salted SHA, MD5-crypt; imported only with
    `allowWeakHashes`): what `passwordNeedsRehash` means for it is implied by the
    format, and `needs_rehash` is already true."""
    return stored_hash is not None and stored_hash.startswith(WEAK_PREFIXES)


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


def stored_form(
    value: str | Mapping[str, Any],
    *,
    allow_weak: bool = False,
    tenant_id: str | None = None,
    mode: str | None = None,
) -> str:
    """What an imported `passwordHash` (api-server §1.10, concepts §7.4) is stored as on the
    user, so that `verify` checks it natively and `needs_rehash` upgrades it at the next
    log-in. Raises BadRequest naming `passwordHash` and the problem (never the hash) for
    a value it does not accept: unrecognised, malformed, above the cost caps, or weak
    without `allow_weak` (the import's `options.allowWeakHashes`).

    `tenant_id` and `mode` are those of the import: a firebase-scrypt hash needs them
    (its parameters are the tenant's, `save_firebase_parameters`); others ignore them.
    The formats and their stored forms: `hashformats` and docs/migration.md."""
    from portcullis.credentials import hashformats

    return hashformats.stored_form(value, allow_weak=allow_weak, tenant_id=tenant_id, mode=mode)


def save_firebase_parameters(
    tenant_id: str, mode: str, config: Mapping[str, Any], *, replace: bool = False
) -> None:
    """Save the Firebase hash configuration of an import's `options.firebaseHashConfig`
    (`base64_signer_key`, `base64_salt_separator`, `rounds`, `mem_cost`) for the tenant
    and mode, KMS-encrypted. BadRequest naming the option when it is invalid, or differs
    from the one already saved and `replace` is not set (see `hashparams`)."""
    from portcullis.credentials import hashparams

    hashparams.save_firebase_parameters(tenant_id, mode, config, replace=replace)
