"""Firebase's scrypt parameters, per tenant and mode (docs/migration.md "Password-hash
formats").

Firebase hashes every password of a project with the project's own hash configuration
(`base64_signer_key`, `base64_salt_separator`, `rounds`, `mem_cost`; firebase/scrypt's
README). The hashes of `firebase auth:export` are useless without it, and the signer key
is a secret, so it is stored once per tenant and mode, KMS-envelope-encrypted and bound
to tenant and mode (`tokens/envelope.py`), never in the hashes. An import brings it as
`options.firebaseHashConfig` and saves it with `save_firebase_parameters`.

One configuration per tenant and mode, as Firebase has one per project: saving the same
one again is a no-op, saving a different one is refused unless `replace` is set (users
imported with the first could no longer log in). Log-ins read it through a five-minute
per-instance cache: a replacement reaches every instance within five minutes.

The hash is Firebase's published algorithm: scrypt (N = 2^mem_cost, r = rounds, p = 1,
64 bytes) of the password with salt + separator; its first 32 bytes are an AES-256-CTR
key (counter block zero) that encrypts the signer key; the result is the hash.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from portcullis.platform.errors import BadRequest
from portcullis.platform.timefmt import now_iso
from portcullis.store import hashparams as store
from portcullis.tokens import envelope

ALGORITHM = "firebase-scrypt"
OPTION = "options.firebaseHashConfig"
# Firebase's field names (its console and `hash_config`), and the camelCase spellings of
# concepts §7.4, accepted as aliases.
FIELDS = {
    "base64_signer_key": "signerKey",
    "base64_salt_separator": "saltSeparator",
    "rounds": "rounds",
    "mem_cost": "memCost",
}
MAX_MEMORY = 256 * 1024 * 1024  # as hashformats.MAX_MEMORY

_cache: TTLCache[tuple[str, str], FirebaseParams] = TTLCache(maxsize=256, ttl=300)


@dataclass(frozen=True)
class FirebaseParams:
    signer_key: bytes
    salt_separator: bytes
    rounds: int
    mem_cost: int

    def hash(self, password: bytes, salt: bytes, length: int) -> bytes:
        """Firebase's hash of `password` with the user's `salt` (its first `length` bytes:
        the signer key's length, which is what Firebase exports)."""
        import hashlib

        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        n = 1 << self.mem_cost
        derived = hashlib.scrypt(
            password,
            salt=salt + self.salt_separator,
            n=n,
            r=self.rounds,
            p=1,
            dklen=64,
            maxmem=128 * self.rounds * (n + 3) + (1 << 20),
        )
        encryptor = Cipher(algorithms.AES(derived[:32]), modes.CTR(bytes(16))).encryptor()
        return (encryptor.update(self.signer_key) + encryptor.finalize())[:length]

    def as_config(self) -> dict[str, Any]:
        return {
            "base64_signer_key": base64.b64encode(self.signer_key).decode(),
            "base64_salt_separator": base64.b64encode(self.salt_separator).decode(),
            "rounds": self.rounds,
            "mem_cost": self.mem_cost,
        }


def _field(config: Mapping[str, Any], name: str) -> Any:
    value = config.get(name, config.get(FIELDS[name]))
    if value is None:
        raise BadRequest(f'"{OPTION}.{name}" is required')
    return value


def _base64_field(config: Mapping[str, Any], name: str) -> bytes:
    value = _field(config, name)
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f'"{OPTION}.{name}" must be base64') from None


def _int_field(config: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = _field(config, name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f'"{OPTION}.{name}" must be an integer from {low} to {high}')
    return value


def parse_config(config: Any) -> FirebaseParams:
    """The four parameters, checked; BadRequest naming the bad field."""
    if not isinstance(config, Mapping):
        raise BadRequest(f'"{OPTION}" must be an object')
    params = FirebaseParams(
        signer_key=_base64_field(config, "base64_signer_key"),
        salt_separator=_base64_field(config, "base64_salt_separator"),
        rounds=_int_field(config, "rounds", 1, 64),
        mem_cost=_int_field(config, "mem_cost", 1, 20),
    )
    if not 16 <= len(params.signer_key) <= 128:
        raise BadRequest(f'"{OPTION}.base64_signer_key" must decode to 16-128 bytes')
    if 128 * params.rounds * (1 << params.mem_cost) > MAX_MEMORY:
        raise BadRequest(f'"{OPTION}" needs more than {MAX_MEMORY >> 20} MiB per password check')
    return params


def _context(tenant_id: str, mode: str) -> str:
    return f"hash-params:{ALGORITHM}:{mode}:{tenant_id}"


def _seal(params: FirebaseParams, tenant_id: str, mode: str) -> str:
    sealed = envelope.seal(json.dumps(params.as_config()).encode(), _context(tenant_id, mode))
    return json.dumps({"c": sealed.ciphertext, "k": sealed.encrypted_data_key, "n": sealed.nonce})


def _open(item: store.HashParamsItem) -> FirebaseParams:
    raw = json.loads(item.sealed)
    sealed = envelope.Sealed(ciphertext=raw["c"], encrypted_data_key=raw["k"], nonce=raw["n"])
    config = json.loads(envelope.open_sealed(sealed, _context(item.tenantId, item.mode)))
    return parse_config(config)


def save_firebase_parameters(
    tenant_id: str, mode: str, config: Any, *, replace: bool = False
) -> None:
    """Save the tenant's Firebase hash configuration (the import's
    `options.firebaseHashConfig`). Idempotent for the same configuration; a different one
    is refused (BadRequest naming the option) unless `replace`."""
    params = parse_config(config)
    existing = store.get_params(mode, tenant_id, ALGORITHM)
    if existing is not None:
        same = _open(existing)
        if _same(same, params):
            return
        if not replace:
            raise BadRequest(
                f'"{OPTION}" differs from the Firebase hash configuration already saved '
                "for this tenant and mode"
            )
    try:
        store.put_params(
            mode,
            tenant_id,
            ALGORITHM,
            sealed=_seal(params, tenant_id, mode),
            saved_at=now_iso(),
            replaces=existing,
        )
    except store.ParamsChanged:
        raise BadRequest(f'"{OPTION}" was saved by another request at the same time') from None
    _cache.pop((tenant_id, mode), None)


def _same(a: FirebaseParams, b: FirebaseParams) -> bool:
    return (
        hmac.compare_digest(a.signer_key, b.signer_key)
        and a.salt_separator == b.salt_separator
        and (a.rounds, a.mem_cost) == (b.rounds, b.mem_cost)
    )


def firebase_parameters(tenant_id: str, mode: str) -> FirebaseParams | None:
    """The saved configuration, or None. Found ones are cached for five minutes per
    instance (one GetItem and one KMS call saved per log-in); a miss is not, so that
    parameters an import saves are used at once."""
    key = (tenant_id, mode)
    if key in _cache:
        return _cache[key]
    item = store.get_params(mode, tenant_id, ALGORITHM)
    if item is None:
        return None
    params = _cache[key] = _open(item)
    return params


def has_firebase_parameters(tenant_id: str, mode: str) -> bool:
    return firebase_parameters(tenant_id, mode) is not None
