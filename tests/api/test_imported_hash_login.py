"""Users holding an imported password hash (docs/migration.md "Password-hash formats") log
in over HTTP with their original password, and that first successful log-in replaces the
hash with argon2id; a wrong password changes nothing; a password change checks the
imported hash.

The imported hash is written onto a signed-up user through the core (`stored_form`, the
users store) against the runtime's own moto, as an import does; the stored hash is read
back the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import bcrypt
import httpx
import pytest
from authkit import bearer, claims, error, log_in, new_tenant, sign_up, tokens, unique_email
from passlib.hash import django_pbkdf2_sha256, md5_crypt

INCORRECT = "Incorrect email or password"
ORIGINAL = "imported-password-42"
FIREBASE_CONFIG = {  # Firebase's published example (firebase/scrypt README)
    "base64_signer_key": (
        "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
    ),
    "base64_salt_separator": "Bw==",
    "rounds": 8,
    "mem_cost": 14,
}
FIREBASE_USER = {
    "algorithm": "firebase-scrypt",
    "salt": "42xEC+ixf3L2lw==",
    "hash": (
        "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
    ),
}


@pytest.fixture(scope="module")
def core(base_url: str) -> Iterator[None]:
    """The core's store pointed at the runtime's moto (its table and KMS key)."""
    from portcullis.store.base import configure

    environment = httpx.get(f"{base_url}/_local/environment", timeout=30).json()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            if value:
                patch.setenv(name, value)
        configure(environment["TABLE_NAME"], environment["AWS_ENDPOINT_URL"])
        yield


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace: Any) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="Imported hashes")


def _user(tenant: str, user_id: int) -> Any:
    from portcullis.store import users as user_store

    found = user_store.get_user("test", tenant, user_id, consistent=True)
    assert found is not None
    return found


def _imported_user(
    client: httpx.Client, tenant: str, value: str | dict[str, Any], *, allow_weak: bool = False
) -> tuple[str, int, str]:
    """A user whose stored hash is `value`'s stored form, as an import leaves it: email,
    userId and the access token of the sign-up's session (from before the hash)."""
    from portcullis.credentials import passwords
    from portcullis.store import transactions
    from portcullis.store import users as user_store

    email = unique_email("imported")
    access = tokens(sign_up(client, tenant, email))[0]
    user_id = int(claims(access)["userId"])
    stored = passwords.stored_form(value, allow_weak=allow_weak, tenant_id=tenant, mode="test")
    update = user_store.field_update(_user(tenant, user_id), {"passwordHash": stored})
    transactions.commit([], [update])
    assert _user(tenant, user_id).passwordHash == stored
    return email, user_id, access


def test_a_bcrypt_user_logs_in_and_is_rehashed_to_argon2id(core, client, tenant) -> None:
    from portcullis.credentials import passwords

    imported = bcrypt.hashpw(ORIGINAL.encode(), bcrypt.gensalt(4)).decode()
    email, user_id, _ = _imported_user(client, tenant, imported)
    error(log_in(client, tenant, email, ORIGINAL + "x"), 400, INCORRECT)
    assert _user(tenant, user_id).passwordHash == imported  # a failure changes nothing
    first = log_in(client, tenant, email, ORIGINAL)
    assert first.status_code == 200, first.text
    upgraded = _user(tenant, user_id).passwordHash
    assert upgraded.startswith("$argon2id$") and not passwords.needs_rehash(upgraded)
    assert passwords.verify(upgraded, ORIGINAL)
    again = log_in(client, tenant, email, ORIGINAL)
    assert again.status_code == 200, again.text
    assert _user(tenant, user_id).passwordHash == upgraded  # no second rehash
    error(log_in(client, tenant, email, "wrong-password-1"), 400, INCORRECT)


FORMATS: dict[str, Callable[[], str | dict[str, Any]]] = {
    "django-pbkdf2": lambda: django_pbkdf2_sha256.using(rounds=1000).hash(ORIGINAL),
    "md5-crypt (weak)": lambda: md5_crypt.hash(ORIGINAL),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_other_families_log_in_and_are_rehashed(core, client, tenant, name: str) -> None:
    email, user_id, _ = _imported_user(client, tenant, FORMATS[name](), allow_weak=True)
    assert log_in(client, tenant, email, ORIGINAL).status_code == 200
    assert _user(tenant, user_id).passwordHash.startswith("$argon2id$")
    assert log_in(client, tenant, email, ORIGINAL).status_code == 200


def test_a_firebase_user_logs_in_with_the_tenants_saved_parameters(core, client, tenant) -> None:
    from portcullis.credentials import passwords

    email, user_id, _ = _imported_user(client, tenant, FIREBASE_USER)
    error(log_in(client, tenant, email, "user1password"), 400, INCORRECT)  # none saved yet
    passwords.save_firebase_parameters(tenant, "test", FIREBASE_CONFIG)
    error(log_in(client, tenant, email, "user1passwore"), 400, INCORRECT)
    assert _user(tenant, user_id).passwordHash.startswith("$pc-firebase-scrypt$")
    assert log_in(client, tenant, email, "user1password").status_code == 200
    assert _user(tenant, user_id).passwordHash.startswith("$argon2id$")


def test_a_password_change_checks_the_imported_hash(core, client, tenant) -> None:
    imported = bcrypt.hashpw(ORIGINAL.encode(), bcrypt.gensalt(4)).decode()
    email, user_id, access = _imported_user(client, tenant, imported)
    path = f"/v0/tenants/{tenant}/auth/basic"
    wrong = {"password": "new-password-123", "existingPassword": "not-the-original-1"}
    error(client.put(path, json=wrong, headers=bearer(access)), 400, "Incorrect password")
    right = {"password": "new-password-123", "existingPassword": ORIGINAL}
    done = client.put(path, json=right, headers=bearer(access))
    assert done.status_code == 200, done.text
    error(log_in(client, tenant, email, ORIGINAL), 400, INCORRECT)
    changed = _user(tenant, user_id).passwordHash
    assert changed.startswith("$argon2id$")
    assert log_in(client, tenant, email, "new-password-123").status_code == 200
