"""Imported password-hash formats (concepts §7.4, docs/migration.md "Password-hash formats").

A user imported from another system keeps that system's hash until their next successful
log-in, when `passwords.needs_rehash` has it replaced by argon2id. This module knows the
13 accepted formats: how an imported `passwordHash` (a string, or an object for the
formats that have no string form of their own) is checked and turned into the string
stored on the user (`stored_form`), and how a stored one is verified (`verify`).

Every family is verified by a maintained implementation, never by crypto of our own:
argon2-cffi (in `passwords`), `bcrypt`, `hashlib.scrypt` / `hashlib.pbkdf2_hmac` /
`hashlib.sha*`, libpass (the maintained passlib fork) for MD5-crypt, `cryptography`'s
AES-CTR for Firebase's scrypt variant. Digests are compared with `hmac.compare_digest`.

Costs are capped at import (`MAX_*`), so that an import cannot make every later log-in
attempt on its users burn minutes of CPU or gigabytes of memory. bcrypt keeps the
format's own range (cost 4–31, concepts §7.4).

Object forms are stored as self-describing strings under a `$pc-` prefix (ours, never
another system's): `$pc-pbkdf2$d=<digest>,i=<n>$<salt>$<hash>`,
`$pc-sha256$pos=<prefix|suffix>$<salt>$<hash>` (and `$pc-sha512$`), and
`$pc-firebase-scrypt$t=<tenantId>,m=<mode>$<salt>$<hash>` — salt and hash in standard
base64 without padding. Firebase's project parameters are not in the hash: they are
stored once per tenant and mode, KMS-encrypted (`credentials/hashparams.py`), and the
stored form names the tenant and mode to read them from. Every stored form is accepted
again by `stored_form`, so an export re-imports as it is.

Third-party libraries are imported on first use: most log-ins are argon2id and never
load bcrypt or libpass (docs/performance.md "Cold start").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from portcullis.platform.errors import BadRequest

log = logging.getLogger(__name__)

MAX_STRING = 1024  # no accepted hash is longer; bounds the work of parsing one
MAX_MEMORY = 256 * 1024 * 1024  # scrypt and argon2: bytes one verification may allocate
MAX_PBKDF2_ITERATIONS = 10_000_000  # PBKDF2 block computations (iterations x blocks)
MIN_PBKDF2_ITERATIONS = 1_000  # concepts §7.4, for the generic object form
MAX_ARGON2_TIME = 16
MAX_PARALLELISM = 16  # argon2 lanes, scrypt p

PBKDF2_DIGESTS = {"sha1": 20, "sha256": 32, "sha512": 64}
SHA_DIGESTS = {"sha256": 32, "sha512": 64}
ENCODINGS = ("base64", "hex")
SALT_ENCODINGS = ("base64", "hex", "utf8")

NATIVE_PREFIX = "$argon2id$"
ARGON2_PREFIXES = ("$argon2id$", "$argon2i$", "$argon2d$")
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
FIREBASE_PREFIX = "$pc-firebase-scrypt$"

_BCRYPT = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")
_B64 = re.compile(r"[A-Za-z0-9+/.]*={0,2}")
_INT = re.compile(r"[1-9][0-9]{0,9}")
_TENANT = re.compile(r"[a-z0-9]{1,64}")


def _bad(why: str) -> BadRequest:
    """The row's error: names the field and why, never echoes the hash."""
    return BadRequest(f'"passwordHash" {why}')


# --- encodings -------------------------------------------------------------------------


def _b64decode(text: str, what: str) -> bytes:
    """Standard base64 or passlib's adapted base64 ('.' for '+'), padded or not."""
    if not _B64.fullmatch(text):
        raise _bad(f"has a {what} that is not base64")
    body = text.rstrip("=").replace(".", "+")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"has a {what} that is not base64") from None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _decode(text: Any, encoding: str, what: str) -> bytes:
    if not isinstance(text, str) or not text:
        raise _bad(f"needs a non-empty string {what}")
    if encoding == "utf8":
        return text.encode()
    if encoding == "hex":
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise _bad(f"has a {what} that is not hex") from None
    return _b64decode(text, what)


def _int_param(text: str, what: str) -> int:
    if not _INT.fullmatch(text):
        raise _bad(f"has an invalid {what}")
    return int(text)


def _params(text: str, names: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
    """`a=1,b=2` with exactly the `names` (plus any of `optional`), in any order."""
    found: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or key in found or key not in names + optional:
            raise _bad(f"has invalid parameters (expected {','.join(names)})")
        found[key] = value
    if any(name not in found for name in names):
        raise _bad(f"has invalid parameters (expected {','.join(names)})")
    return found


def _split(stored: str, parts: int, name: str) -> list[str]:
    fields = stored.split("$")
    if len(fields) != parts:
        raise _bad(f"is not a well-formed {name} hash")
    return fields


# --- the formats ---------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """One stored hash, understood: `check` verifies a password against it."""

    name: str
    check: Callable[[bytes], bool]
    weak: bool = False


def _bcrypt(stored: str) -> Parsed:
    match = _BCRYPT.fullmatch(stored)
    if not match:
        raise _bad("is not a well-formed bcrypt hash")
    if not 4 <= int(match.group(1)) <= 31:
        raise _bad("has a bcrypt cost outside 4-31")

    def check(password: bytes) -> bool:
        import bcrypt

        # bcrypt reads at most 72 bytes; every implementation that made these hashes
        # ignored the rest, and bcrypt 5 refuses longer input instead of ignoring it.
        # $2a$/$2y$ hashes are the same algorithm as $2b$ for such input.
        try:
            return bcrypt.checkpw(password[:72], stored.encode())
        except ValueError:
            return False

    return Parsed("bcrypt", check)


def _argon2(stored: str) -> Parsed:
    from argon2 import extract_parameters
    from argon2.exceptions import InvalidHashError

    try:
        params = extract_parameters(stored)
    except (InvalidHashError, ValueError):
        raise _bad("is not a well-formed argon2 hash") from None
    if params.version != 19 or "$v=19$" not in stored:
        raise _bad("must be an argon2 hash of version 19 (v=19)")
    if params.memory_cost * 1024 > MAX_MEMORY:
        raise _bad(f"needs more than {MAX_MEMORY >> 20} MiB of memory")
    if params.time_cost > MAX_ARGON2_TIME or params.parallelism > MAX_PARALLELISM:
        raise _bad(f"has argon2 t above {MAX_ARGON2_TIME} or p above {MAX_PARALLELISM}")
    if params.salt_len < 8 or not 16 <= params.hash_len <= 64:
        raise _bad("has an argon2 salt under 8 bytes or a hash outside 16-64 bytes")

    def check(password: bytes) -> bool:
        from argon2 import PasswordHasher
        from argon2.exceptions import VerificationError

        try:
            return PasswordHasher().verify(stored, password)  # type from the hash itself
        except (VerificationError, InvalidHashError):
            return False

    return Parsed(stored.split("$")[1], check)


def _scrypt_check(salt: bytes, expected: bytes, n: int, r: int, p: int) -> Callable[[bytes], bool]:
    # What OpenSSL allocates (V plus B), with room to spare: hashlib's default cap
    # (32 MiB) would refuse parameters that the import accepted.
    maxmem = 128 * r * (n + p + 2) + (1 << 20)

    def check(password: bytes) -> bool:
        try:
            derived = hashlib.scrypt(
                password, salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=maxmem
            )
        except (ValueError, MemoryError):  # parameters this machine cannot run: no match
            log.warning("scrypt hash whose parameters could not be run (N=%d, r=%d)", n, r)
            return False
        return hmac.compare_digest(derived, expected)

    return check


def _scrypt_costs(n: int, r: int, p: int) -> None:
    """What one check allocates: V (128·r·N bytes) and B (128·r·p bytes)."""
    if 128 * r * (n + p) > MAX_MEMORY:
        raise _bad(f"needs more than {MAX_MEMORY >> 20} MiB of memory")
    if p > MAX_PARALLELISM:
        raise _bad(f"has scrypt p above {MAX_PARALLELISM}")


def _scrypt(stored: str) -> Parsed:
    """PHC / passlib `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`."""
    _, _, params_text, salt_text, hash_text = _split(stored, 5, "scrypt")
    params = _params(params_text, ("ln", "r", "p"))
    ln = _int_param(params["ln"], "scrypt ln")
    r = _int_param(params["r"], "scrypt r")
    p = _int_param(params["p"], "scrypt p")
    if ln > 32:
        raise _bad("has an invalid scrypt ln")
    _scrypt_costs(1 << ln, r, p)
    salt = _b64decode(salt_text, "salt")
    expected = _b64decode(hash_text, "hash")
    if not salt or not 16 <= len(expected) <= 64:
        raise _bad("has an empty salt or a hash outside 16-64 bytes")
    return Parsed("scrypt", _scrypt_check(salt, expected, 1 << ln, r, p))


def _pbkdf2_check(
    digest: str, salt: bytes, expected: bytes, iterations: int
) -> Callable[[bytes], bool]:
    blocks = -(-len(expected) // PBKDF2_DIGESTS[digest])
    if iterations * blocks > MAX_PBKDF2_ITERATIONS:
        raise _bad(f"needs more than {MAX_PBKDF2_ITERATIONS} PBKDF2 iterations")
    if not 16 <= len(expected) <= 64:
        raise _bad("has a PBKDF2 hash outside 16-64 bytes")

    def check(password: bytes) -> bool:
        derived = hashlib.pbkdf2_hmac(digest, password, salt, iterations, dklen=len(expected))
        return hmac.compare_digest(derived, expected)

    return check


def _pbkdf2_phc(stored: str) -> Parsed:
    """passlib's `$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 hash>` and the PHC
    `$pbkdf2-sha256$i=<rounds>[,l=<length>]$<salt>$<hash>` (sha512 likewise; sha1 too, as
    Auth0's `custom_password_hash` and other PHC writers name it)."""
    _, ident, params_text, salt_text, hash_text = _split(stored, 5, "PBKDF2")
    digest = ident.removeprefix("pbkdf2-")
    length: int | None = None
    if params_text.startswith("i="):
        params = _params(params_text, ("i",), ("l",))
        iterations = _int_param(params["i"], "PBKDF2 iteration count")
        if "l" in params:
            length = _int_param(params["l"], "PBKDF2 length")
    else:
        iterations = _int_param(params_text, "PBKDF2 iteration count")
    salt = _b64decode(salt_text, "salt")
    expected = _b64decode(hash_text, "hash")
    if length is not None and length != len(expected):
        raise _bad("has a PBKDF2 length that does not match its hash")
    if not salt:
        raise _bad("has an empty salt")
    return Parsed(ident, _pbkdf2_check(digest, salt, expected, iterations))


def _django(stored: str) -> Parsed:
    """Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`: the salt is used as the
    text it is (Django's `force_bytes(salt)`), the hash is 32 bytes."""
    _, iterations_text, salt, hash_text = _split(stored, 4, "Django pbkdf2_sha256")
    iterations = _int_param(iterations_text, "PBKDF2 iteration count")
    if not salt or not salt.isascii():
        raise _bad("has an empty or non-ASCII Django salt")
    expected = _b64decode(hash_text, "hash")
    if len(expected) != 32:
        raise _bad("has a Django pbkdf2_sha256 hash that is not 32 bytes")
    return Parsed(
        "django-pbkdf2-sha256", _pbkdf2_check("sha256", salt.encode(), expected, iterations)
    )


def _md5_crypt(stored: str) -> Parsed:
    from passlib.hash import md5_crypt

    try:
        md5_crypt.from_string(stored)
    except ValueError:
        raise _bad("is not a well-formed MD5-crypt hash") from None

    def check(password: bytes) -> bool:
        try:
            return bool(md5_crypt.verify(password, stored))
        except ValueError:
            return False

    return Parsed("md5-crypt", check, weak=True)


def _pc_pbkdf2(stored: str) -> Parsed:
    _, _, params_text, salt_text, hash_text = _split(stored, 5, "PBKDF2")
    params = _params(params_text, ("d", "i"))
    if params["d"] not in PBKDF2_DIGESTS:
        raise _bad("has an unsupported PBKDF2 digest")
    iterations = _int_param(params["i"], "PBKDF2 iteration count")
    if iterations < MIN_PBKDF2_ITERATIONS:
        raise _bad(f"needs at least {MIN_PBKDF2_ITERATIONS} PBKDF2 iterations")
    salt = _b64decode(salt_text, "salt")
    expected = _b64decode(hash_text, "hash")
    return Parsed("pbkdf2", _pbkdf2_check(params["d"], salt, expected, iterations))


def _salted_sha_check(
    digest: str, salt: bytes, expected: bytes, suffix: bool
) -> Callable[[bytes], bool]:
    if len(expected) != SHA_DIGESTS[digest]:
        raise _bad(f"has a {digest} hash of the wrong length")
    if not salt:
        raise _bad("needs a non-empty salt")

    def check(password: bytes) -> bool:
        data = password + salt if suffix else salt + password
        return hmac.compare_digest(hashlib.new(digest, data).digest(), expected)

    return check


def _pc_sha(stored: str) -> Parsed:
    _, ident, params_text, salt_text, hash_text = _split(stored, 5, "salted SHA")
    digest = ident.removeprefix("pc-")
    position = _params(params_text, ("pos",))["pos"]
    if position not in ("prefix", "suffix"):
        raise _bad("has an invalid salt position")
    salt = _b64decode(salt_text, "salt")
    expected = _b64decode(hash_text, "hash")
    return Parsed(
        digest, _salted_sha_check(digest, salt, expected, position == "suffix"), weak=True
    )


def _pc_firebase(stored: str) -> Parsed:
    _, _, params_text, salt_text, hash_text = _split(stored, 5, "firebase-scrypt")
    params = _params(params_text, ("t", "m"))
    if not _TENANT.fullmatch(params["t"]) or params["m"] not in ("test", "live"):
        raise _bad("names an invalid tenant or mode")
    salt = _b64decode(salt_text, "salt")
    expected = _b64decode(hash_text, "hash")
    if not salt or not 16 <= len(expected) <= 128:
        raise _bad("has an empty salt or a hash outside 16-128 bytes")
    tenant_id, mode = params["t"], params["m"]

    def check(password: bytes) -> bool:
        from portcullis.credentials import hashparams

        found = hashparams.firebase_parameters(tenant_id, mode)
        if found is None:
            log.warning("firebase-scrypt hash without saved parameters (%s, %s)", tenant_id, mode)
            return False
        return hmac.compare_digest(found.hash(password, salt, len(expected)), expected)

    return Parsed("firebase-scrypt", check)


_BY_PREFIX: tuple[tuple[tuple[str, ...], Callable[[str], Parsed]], ...] = (
    (ARGON2_PREFIXES, _argon2),
    (BCRYPT_PREFIXES, _bcrypt),
    (("$scrypt$",), _scrypt),
    (("$pbkdf2-sha256$", "$pbkdf2-sha512$", "$pbkdf2-sha1$"), _pbkdf2_phc),
    (("pbkdf2_sha256$",), _django),
    (("$1$",), _md5_crypt),
    (("$pc-pbkdf2$",), _pc_pbkdf2),
    (("$pc-sha256$", "$pc-sha512$"), _pc_sha),
    ((FIREBASE_PREFIX,), _pc_firebase),
)


def parse(stored: str) -> Parsed:
    """The format of a stored (or imported string) hash; BadRequest if none fits."""
    if len(stored) > MAX_STRING or not stored.isascii():
        raise _bad("has an unrecognised format")
    for prefixes, parser in _BY_PREFIX:
        if stored.startswith(prefixes):
            return parser(stored)
    raise _bad("has an unrecognised format")


# --- import ----------------------------------------------------------------------------


def _object_form(value: Mapping[str, Any], *, tenant_id: str | None, mode: str | None) -> str:
    algorithm = value.get("algorithm")
    if algorithm == "pbkdf2":
        return _pbkdf2_object(value)
    if algorithm in SHA_DIGESTS:
        return _sha_object(str(algorithm), value)
    if algorithm == "firebase-scrypt":
        salt = _decode(value.get("salt"), "base64", "salt")
        expected = _decode(value.get("hash"), "base64", "hash")
        return _firebase_form(salt, expected, tenant_id=tenant_id, mode=mode)
    raise _bad("has an unrecognised algorithm (pbkdf2, sha256, sha512, firebase-scrypt)")


def _encodings(value: Mapping[str, Any]) -> tuple[str, str]:
    encoding = value.get("encoding", "base64")
    if encoding not in ENCODINGS:
        raise _bad("has an encoding other than base64 or hex")
    salt_encoding = value.get("saltEncoding", encoding)
    if salt_encoding not in SALT_ENCODINGS:
        raise _bad("has a saltEncoding other than base64, hex or utf8")
    return str(encoding), str(salt_encoding)


def _pbkdf2_object(value: Mapping[str, Any]) -> str:
    digest = value.get("digest")
    if digest not in PBKDF2_DIGESTS:
        raise _bad("needs digest sha1, sha256 or sha512")
    iterations = value.get("iterations")
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise _bad("needs an integer iterations")
    if iterations < MIN_PBKDF2_ITERATIONS:
        raise _bad(f"needs at least {MIN_PBKDF2_ITERATIONS} PBKDF2 iterations")
    encoding, salt_encoding = _encodings(value)
    salt = _decode(value.get("salt"), salt_encoding, "salt")
    expected = _decode(value.get("hash"), encoding, "hash")
    _pbkdf2_check(str(digest), salt, expected, iterations)  # the caps
    return f"$pc-pbkdf2$d={digest},i={iterations}${_b64(salt)}${_b64(expected)}"


def _sha_object(digest: str, value: Mapping[str, Any]) -> str:
    position = value.get("saltPosition")
    if position not in ("prefix", "suffix"):
        raise _bad('needs saltPosition "prefix" or "suffix"')
    encoding, salt_encoding = _encodings(value)
    salt = _decode(value.get("salt"), salt_encoding, "salt")
    expected = _decode(value.get("hash"), encoding, "hash")
    _salted_sha_check(digest, salt, expected, position == "suffix")  # the checks
    return f"$pc-{digest}$pos={position}${_b64(salt)}${_b64(expected)}"


def _firebase_form(salt: bytes, expected: bytes, *, tenant_id: str | None, mode: str | None) -> str:
    if tenant_id is None or mode is None:
        raise _bad("of algorithm firebase-scrypt can only be imported into a tenant and mode")
    stored = f"{FIREBASE_PREFIX}t={tenant_id},m={mode}${_b64(salt)}${_b64(expected)}"
    _pc_firebase(stored)
    return stored


def stored_form(
    value: str | Mapping[str, Any],
    *,
    allow_weak: bool,
    tenant_id: str | None = None,
    mode: str | None = None,
) -> str:
    """See `passwords.stored_form`."""
    if isinstance(value, Mapping):
        stored = _object_form(value, tenant_id=tenant_id, mode=mode)
    elif isinstance(value, str):
        stored = value.strip()  # a CSV cell's stray spaces are not part of any hash
        if stored.startswith(FIREBASE_PREFIX):
            # An exported firebase-scrypt hash: its parameters are those of the tenant it
            # is imported into (the import brings them as options.firebaseHashConfig).
            _, _, _, salt_text, hash_text = _split(stored, 5, "firebase-scrypt")
            stored = _firebase_form(
                _b64decode(salt_text, "salt"),
                _b64decode(hash_text, "hash"),
                tenant_id=tenant_id,
                mode=mode,
            )
    else:
        raise _bad("must be a string or an object")
    parsed = parse(stored)
    if parsed.weak and not allow_weak:
        raise _bad(f"is a weak format ({parsed.name}): accepted only with allowWeakHashes")
    return stored


# --- log-in ----------------------------------------------------------------------------


def verify(stored: str, password: str) -> bool | None:
    """Whether `password` matches the stored hash of any accepted format; None for a
    stored value no format recognises (which an import never stores)."""
    try:
        parsed = parse(stored)
    except BadRequest:
        log.warning("stored password hash of an unrecognised format")
        return None
    return parsed.check(password.encode())
