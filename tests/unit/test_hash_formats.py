"""Imported password-hash formats (`credentials/hashformats.py`, `credentials/hashparams.py`,
docs/migration.md "Password-hash formats"): every format is checked against hashes made
by the reference implementation of that format — the `bcrypt` library (and OpenBSD's
published vector), argon2-cffi, libpass (passlib) for its PHC/crypt forms, hashlib,
OpenSSL's `passwd -1` for MD5-crypt, Django's published test vector, Firebase's published
scrypt example — with the right password, a wrong one, malformed input, the weak-format
opt-in and the cost caps. Parameters are kept small so the file runs in about a second.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import string
import textwrap
from collections.abc import Callable

import bcrypt
import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type
from freshprocess import run_json
from passlib.hash import (
    django_pbkdf2_sha256,
    md5_crypt,
    pbkdf2_sha256,
    pbkdf2_sha512,
)
from passlib.hash import scrypt as passlib_scrypt

from portcullis.credentials import hashformats, hashparams, passwords
from portcullis.platform.errors import BadRequest

PASSWORD = "Corr3ct hörse battery"
WRONG = "Corr3ct hörse batterz"

# Firebase's published example (firebase/scrypt README, "Password Hashing").
FIREBASE_CONFIG = {
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
FIREBASE_PASSWORD = "user1password"


def _argon2(kind: Type) -> str:
    return PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=kind).hash(PASSWORD)


def _pbkdf2_object(digest: str, encoding: str) -> dict[str, object]:
    salt = secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac(digest, PASSWORD.encode(), salt, 1000)
    encode: Callable[[bytes], str] = (
        bytes.hex if encoding == "hex" else (lambda raw: base64.b64encode(raw).decode())
    )
    return {
        "algorithm": "pbkdf2",
        "digest": digest,
        "iterations": 1000,
        "salt": encode(salt),
        "hash": encode(derived),
        "encoding": encoding,
    }


def _sha_object(digest: str, position: str) -> dict[str, object]:
    salt = "pepper&salt"
    data = (PASSWORD + salt) if position == "suffix" else (salt + PASSWORD)
    return {
        "algorithm": digest,
        "hash": hashlib.new(digest, data.encode()).hexdigest(),
        "encoding": "hex",
        "salt": salt,
        "saltEncoding": "utf8",
        "saltPosition": position,
    }


# The 13 formats (docs/migration.md), each made by its reference implementation.
STRONG: dict[str, Callable[[], str | dict[str, object]]] = {
    "bcrypt-2b": lambda: bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(),
    "argon2id": lambda: _argon2(Type.ID),
    "argon2i": lambda: _argon2(Type.I),
    "argon2d": lambda: _argon2(Type.D),
    "scrypt-phc": lambda: passlib_scrypt.using(rounds=8, block_size=8).hash(PASSWORD),
    "pbkdf2-sha256-phc": lambda: pbkdf2_sha256.using(rounds=1000).hash(PASSWORD),
    "pbkdf2-sha512-phc": lambda: pbkdf2_sha512.using(rounds=1000).hash(PASSWORD),
    "django-pbkdf2-sha256": lambda: django_pbkdf2_sha256.using(rounds=1000).hash(PASSWORD),
    "pbkdf2-object-sha1-hex": lambda: _pbkdf2_object("sha1", "hex"),
    "pbkdf2-object-sha256-base64": lambda: _pbkdf2_object("sha256", "base64"),
    "pbkdf2-object-sha512-base64": lambda: _pbkdf2_object("sha512", "base64"),
}
WEAK: dict[str, Callable[[], str | dict[str, object]]] = {
    "sha256-prefix": lambda: _sha_object("sha256", "prefix"),
    "sha512-suffix": lambda: _sha_object("sha512", "suffix"),
    "md5-crypt": lambda: md5_crypt.hash(PASSWORD),
}


@pytest.mark.parametrize("name", sorted(STRONG))
def test_each_strong_format_verifies_the_right_password_only(name: str) -> None:
    stored = passwords.stored_form(STRONG[name](), allow_weak=False)
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, WRONG)
    assert not passwords.verify(stored, "")
    assert not passwords.is_weak(stored) and not hashformats.parse(stored).weak
    # Every stored form is accepted again as it is: an export re-imports unchanged.
    assert passwords.stored_form(stored, allow_weak=False) == stored


@pytest.mark.parametrize("name", sorted(WEAK))
def test_weak_formats_only_with_allow_weak_and_marked_weak(name: str) -> None:
    value = WEAK[name]()
    with pytest.raises(BadRequest, match=r'^"passwordHash" is a weak format .*allowWeakHashes'):
        passwords.stored_form(value, allow_weak=False)
    stored = passwords.stored_form(value, allow_weak=True)
    assert passwords.is_weak(stored) and hashformats.parse(stored).weak
    assert passwords.needs_rehash(stored)
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, WRONG)
    assert passwords.stored_form(stored, allow_weak=True) == stored


@pytest.mark.parametrize("name", sorted(set(STRONG) - {"argon2id"}))
def test_every_imported_format_but_argon2id_is_rehashed_at_log_in(name: str) -> None:
    assert passwords.needs_rehash(passwords.stored_form(STRONG[name](), allow_weak=False))


def test_an_imported_argon2id_is_rehashed_only_when_weaker_than_ours() -> None:
    ours = passwords.stored_form(passwords.hash_password(PASSWORD))
    assert not passwords.needs_rehash(ours)
    assert passwords.needs_rehash(passwords.stored_form(_argon2(Type.ID)))


# --- published vectors of other implementations -----------------------------------------


def test_bcrypt_openbsd_vector_and_2a_2y_prefixes() -> None:
    # OpenBSD's bcrypt test vector (also in pyca/bcrypt's tests).
    vector = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
    assert passwords.verify(passwords.stored_form(vector), "U*U")
    assert not passwords.verify(vector, "U*V")
    made = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    for prefix in ("$2a$", "$2y$"):  # PHP's $2y$ and the older $2a$: the same algorithm
        other = prefix + made[4:]
        assert passwords.verify(passwords.stored_form(other), PASSWORD)
        assert not passwords.verify(other, WRONG)


def test_bcrypt_reads_the_first_72_bytes_like_the_systems_that_made_the_hashes() -> None:
    long = "x" * 72 + "tail-ignored-by-bcrypt"
    made = bcrypt.hashpw(long.encode()[:72], bcrypt.gensalt(4)).decode()
    assert passwords.verify(made, long)
    assert passwords.verify(made, "x" * 72 + "another tail")
    assert not passwords.verify(made, "x" * 71)


def test_md5_crypt_vector_made_by_openssl() -> None:
    # `openssl passwd -1 -salt saltstri 'Hello world!'` (OpenSSL 3.0)
    vector = "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"
    assert passwords.verify(passwords.stored_form(vector, allow_weak=True), "Hello world!")
    assert not passwords.verify(vector, "Hello world?")


def test_django_published_vector() -> None:
    # Django's own test suite (tests/auth_tests/test_hashers.py, 1.8 series).
    vector = "pbkdf2_sha256$20000$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0="
    assert passwords.verify(passwords.stored_form(vector), "lètmein")
    assert not passwords.verify(vector, "lètmeinz")


def test_pbkdf2_and_scrypt_in_the_standard_phc_form() -> None:
    """The PHC string format's `i=`/`ln=` parameters and unpadded standard base64, as the
    RustCrypto and other PHC libraries write them, made here with hashlib."""
    salt = secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), salt, 1200)
    b64 = lambda raw: base64.b64encode(raw).decode().rstrip("=")  # noqa: E731
    phc = f"$pbkdf2-sha512$i=1200,l=64${b64(salt)}${b64(derived)}"
    assert passwords.verify(passwords.stored_form(phc), PASSWORD)
    assert not passwords.verify(phc, WRONG)
    with pytest.raises(BadRequest, match="length that does not match"):
        passwords.stored_form(f"$pbkdf2-sha512$i=1200,l=32${b64(salt)}${b64(derived)}")
    sha1 = hashlib.pbkdf2_hmac("sha1", PASSWORD.encode(), salt, 1000)
    phc = f"$pbkdf2-sha1$i=1000,l=20${b64(salt)}${b64(sha1)}"  # Auth0's spelling
    assert passwords.verify(passwords.stored_form(phc), PASSWORD)
    assert not passwords.verify(phc, WRONG)
    scrypted = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=1 << 10, r=8, p=2, dklen=32)
    phc = f"$scrypt$ln=10,r=8,p=2${b64(salt)}${b64(scrypted)}"
    assert passwords.verify(passwords.stored_form(phc), PASSWORD)
    assert not passwords.verify(phc, WRONG)


def test_generic_objects_with_separate_salt_encoding() -> None:
    salt = "textsalt"
    derived = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt.encode(), 1000)
    value = {
        "algorithm": "pbkdf2",
        "digest": "sha256",
        "iterations": 1000,
        "salt": salt,
        "saltEncoding": "utf8",
        "hash": derived.hex(),
        "encoding": "hex",
    }
    stored = passwords.stored_form(value)
    assert stored.startswith("$pc-pbkdf2$d=sha256,i=1000$")
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, WRONG)


# --- Firebase's modified scrypt ------------------------------------------------------------


def test_firebase_published_example() -> None:
    params = hashparams.parse_config(FIREBASE_CONFIG)
    salt = base64.b64decode(FIREBASE_USER["salt"])
    expected = base64.b64decode(FIREBASE_USER["hash"])
    assert params.hash(FIREBASE_PASSWORD.encode(), salt, len(expected)) == expected
    assert params.hash(b"user1passwore", salt, len(expected)) != expected


def _tenant() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))


def test_firebase_hashes_verify_with_the_tenants_saved_parameters(aws: str) -> None:
    tenant = _tenant()
    stored = passwords.stored_form(FIREBASE_USER, tenant_id=tenant, mode="live")
    assert stored.startswith(f"$pc-firebase-scrypt$t={tenant},m=live$")
    assert "jxspr8Ki0RYyc" not in stored
    assert not passwords.verify(stored, FIREBASE_PASSWORD)  # no parameters saved yet
    passwords.save_firebase_parameters(tenant, "live", FIREBASE_CONFIG)
    assert passwords.verify(stored, FIREBASE_PASSWORD)
    assert not passwords.verify(stored, "user1passwore")
    assert passwords.needs_rehash(stored)
    # The parameters are the tenant's and mode's: the same hash in test mode, or in
    # another tenant, has none.
    for other in (
        passwords.stored_form(FIREBASE_USER, tenant_id=tenant, mode="test"),
        passwords.stored_form(FIREBASE_USER, tenant_id=_tenant(), mode="live"),
    ):
        assert not passwords.verify(other, FIREBASE_PASSWORD)
    # Re-imported elsewhere (an export), it points at the importing tenant.
    moved = passwords.stored_form(stored, tenant_id="other123", mode="test")
    assert moved.startswith("$pc-firebase-scrypt$t=other123,m=test$")


def test_firebase_parameters_are_sealed_and_not_silently_replaced(aws: str) -> None:
    from portcullis.store import hashparams as store

    tenant = _tenant()
    passwords.save_firebase_parameters(tenant, "test", FIREBASE_CONFIG)
    passwords.save_firebase_parameters(tenant, "test", dict(FIREBASE_CONFIG))  # same: no-op
    item = store.get_params("test", tenant, "firebase-scrypt")
    assert item is not None and int(item.version) == 1
    assert "jxspr8Ki0RYyc" not in str(item.serialize())  # KMS-sealed, not in the table
    other = dict(FIREBASE_CONFIG, rounds=4)
    with pytest.raises(BadRequest, match=r'^"options.firebaseHashConfig" differs'):
        passwords.save_firebase_parameters(tenant, "test", other)
    passwords.save_firebase_parameters(tenant, "test", other, replace=True)
    found = hashparams.firebase_parameters(tenant, "test")
    assert found is not None and found.rounds == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base64_signer_key": "not base64!"}, "base64_signer_key"),
        ({"base64_salt_separator": None}, "base64_salt_separator"),
        ({"rounds": "8"}, "rounds"),
        ({"mem_cost": 0}, "mem_cost"),
    ],
)
def test_firebase_config_errors_name_the_field(change: dict[str, object], field: str) -> None:
    config = {k: v for k, v in {**FIREBASE_CONFIG, **change}.items() if v is not None}
    with pytest.raises(BadRequest, match=rf'^"options.firebaseHashConfig.{field}"'):
        hashparams.parse_config(config)


def test_firebase_config_accepts_the_camel_case_names() -> None:
    camel = {
        "signerKey": FIREBASE_CONFIG["base64_signer_key"],
        "saltSeparator": FIREBASE_CONFIG["base64_salt_separator"],
        "rounds": 8,
        "memCost": 14,
    }
    assert hashparams.parse_config(camel) == hashparams.parse_config(FIREBASE_CONFIG)


def test_firebase_hash_needs_the_import_tenant_and_mode() -> None:
    with pytest.raises(BadRequest, match=r'^"passwordHash" of algorithm firebase-scrypt'):
        passwords.stored_form(FIREBASE_USER)


# --- malformed input and cost caps ---------------------------------------------------------

_SALT = base64.b64encode(b"0123456789abcdef").decode().rstrip("=")
_HASH32 = base64.b64encode(bytes(32)).decode().rstrip("=")
_BCRYPT_TAIL = "CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("plaintext-password", "unrecognised format"),
        ("", "unrecognised format"),
        ("$5$rounds=5000$salt$hash", "unrecognised format"),  # SHA-256-crypt: not accepted
        ("$2x$05$" + _BCRYPT_TAIL, "unrecognised format"),
        ("$2b$05$" + _BCRYPT_TAIL[:-1], "not a well-formed bcrypt hash"),
        ("$2b$03$" + _BCRYPT_TAIL, "bcrypt cost outside 4-31"),
        ("$2b$32$" + _BCRYPT_TAIL, "bcrypt cost outside 4-31"),
        ("$argon2id$v=19$m=64,t=1,p=1$" + _SALT, "not a well-formed argon2 hash"),
        ("$argon2i$m=64,t=1,p=1$" + _SALT + "$" + _HASH32, "version 19"),
        ("$argon2id$v=19$m=1048576,t=1,p=1$" + _SALT + "$" + _HASH32, "more than 256 MiB"),
        ("$argon2id$v=19$m=64,t=17,p=1$" + _SALT + "$" + _HASH32, "argon2 t above"),
        ("$scrypt$ln=20,r=8,p=1$" + _SALT + "$" + _HASH32, "more than 256 MiB"),
        ("$scrypt$ln=10,r=8,p=17$" + _SALT + "$" + _HASH32, "scrypt p above"),
        ("$scrypt$ln=1,r=2000000,p=1$" + _SALT + "$" + _HASH32, "more than 256 MiB"),
        ("$scrypt$ln=10,r=8$" + _SALT + "$" + _HASH32, "invalid parameters"),
        ("$scrypt$ln=10,r=8,p=1$" + _SALT + "$not*base64", "hash that is not base64"),
        ("$pbkdf2-sha256$10000001$" + _SALT + "$" + _HASH32, "more than 10000000 PBKDF2"),
        ("$pbkdf2-sha256$0$" + _SALT + "$" + _HASH32, "invalid PBKDF2 iteration count"),
        ("$pbkdf2-sha256$1000$" + _SALT, "not a well-formed PBKDF2 hash"),
        ("$pbkdf2-md5$1000$" + _SALT + "$" + _HASH32, "unrecognised format"),
        ("pbkdf2_sha256$1000$salt$" + base64.b64encode(bytes(20)).decode(), "not 32 bytes"),
        ("$1$saltstri$YMyguxXMBpd2TEZ.vS/3q", "not a well-formed MD5-crypt hash"),
        ("$pc-firebase-scrypt$t=tenant01,m=live$$" + _HASH32, "empty salt"),
    ],
)
def test_malformed_or_too_costly_strings_are_refused_without_echoing_them(
    value: str, why: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        passwords.stored_form(value, allow_weak=True, tenant_id="tenant01", mode="live")
    message = str(raised.value)
    assert message.startswith('"passwordHash" ') and why in message
    if len(value) > 12:
        assert value not in message and value[-12:] not in message


def _object(**changes: object) -> dict[str, object]:
    base = _pbkdf2_object("sha256", "base64")
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (["not", "an", "object"], "must be a string or an object"),
        ({"algorithm": "md4", "hash": "AA"}, "unrecognised algorithm"),
        (_object(digest="md5"), "digest sha1, sha256 or sha512"),
        (_object(iterations=999), "at least 1000 PBKDF2 iterations"),
        (_object(iterations=10_000_001), "more than 10000000 PBKDF2"),
        (_object(iterations="1000"), "integer iterations"),
        (_object(iterations=True), "integer iterations"),
        (_object(encoding="base32"), "encoding other than base64 or hex"),
        (_object(salt=None), "non-empty string salt"),
        (_object(salt="00" * 16, hash="zz", encoding="hex"), "hash that is not hex"),
        (_object(hash=base64.b64encode(bytes(8)).decode()), "outside 16-64 bytes"),
        ({**_sha_object("sha256", "prefix"), "saltPosition": "middle"}, "saltPosition"),
        ({**_sha_object("sha256", "prefix"), "hash": "00" * 31}, "wrong length"),
        ({**FIREBASE_USER, "hash": "@@"}, "not base64"),
    ],
)
def test_malformed_objects_are_refused_naming_why(value: object, why: str) -> None:
    with pytest.raises(BadRequest) as raised:
        passwords.stored_form(value, allow_weak=True, tenant_id="tenant01", mode="live")  # type: ignore[arg-type]
    assert str(raised.value).startswith('"passwordHash" ') and why in str(raised.value)


def test_an_unrecognised_stored_value_verifies_nothing_at_the_cost_of_an_unknown_user() -> None:
    assert hashformats.verify("plaintext-password", "plaintext-password") is None
    assert hashformats.verify(f"$pc-firebase-scrypt$t=Bad!,m=live${_SALT}${_HASH32}", "x") is None
    assert not passwords.verify("plaintext-password", "plaintext-password")
    assert passwords.needs_rehash("plaintext-password")


def test_native_log_ins_load_no_imported_format_library() -> None:
    """An argon2id user (and an unknown one) costs what it did before imports existed:
    bcrypt, libpass and the format module load only for a user holding an imported hash
    (bench/auth.py figures, docs/performance.md "Cold start")."""
    code = textwrap.dedent(
        """
        import json, sys
        from portcullis.credentials import passwords
        hashed = passwords.hash_password("native-password-1")
        checks = [passwords.verify(hashed, "native-password-1"), passwords.verify(None, "x"),
                  passwords.needs_rehash(hashed), passwords.is_weak(hashed)]
        loaded = [m for m in ("bcrypt", "passlib", "portcullis.credentials.hashformats")
                  if m in sys.modules]
        print(json.dumps({"checks": checks, "loaded": loaded}))
        """
    )
    env = dict(os.environ, TABLE_NAME="portcullis-lazy", AWS_DEFAULT_REGION="us-east-1")
    result = run_json(code, env)
    assert result == {"checks": [True, False, False, False], "loaded": []}
