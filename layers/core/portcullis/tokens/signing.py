"""RS256 signing keys per tenant and mode, token signing and verification (RFC 7519/8725).

Private keys live in the table only envelope-encrypted (`envelope.py`); a Lambda
instance decrypts the key it signs with once and keeps it in memory. Verification
accepts RS256 only and always checks `exp`. PyJWT and cryptography are imported on
first use, so functions that never touch a token do not pay for them at cold start.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from portcullis.platform.errors import NotFound, Unauthorized
from portcullis.platform.identifiers import TENANT_ID
from portcullis.platform.timefmt import iso, now, now_iso, parse_iso
from portcullis.store import jwtkeys as store
from portcullis.tokens import envelope

ALGORITHM = "RS256"
_CACHE_SECONDS = 300
# Bounded: verification reads the key set of whichever tenant a token names before its
# signature is checked, so made-up tenant ids must not grow memory without end.
# Least recently used entries go first (expired ones before them).
MAX_CACHED_TENANTS = 1024

_lock = threading.Lock()
_public_cache: TTLCache[tuple[str, str], list[store.JwtKeyItem]] = TTLCache(
    maxsize=MAX_CACHED_TENANTS, ttl=_CACHE_SECONDS, timer=time.monotonic
)
_signer_cache: TTLCache[tuple[str, str], tuple[str, Any]] = TTLCache(
    maxsize=MAX_CACHED_TENANTS, ttl=_CACHE_SECONDS, timer=time.monotonic
)


def _context(tenant_id: str, mode: str, kid: str) -> str:
    return f"jwtkey:{tenant_id}:{mode}:{kid}"


def new_signing_key_item(tenant_id: str, mode: str) -> store.JwtKeyItem:
    """Generate an RSA-2048 pair; only the public half is ever stored in clear."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = str(uuid.uuid4())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    sealed = envelope.seal(private_pem, _context(tenant_id, mode, kid))
    return store.new_key_item(
        tenant_id,
        mode,
        kid,
        now_iso(),
        publicKeyPem=public_pem,
        encryptedPrivateKey=sealed.ciphertext,
        encryptedDataKey=sealed.encrypted_data_key,
        nonce=sealed.nonce,
    )


def _keys(tenant_id: str, mode: str) -> list[store.JwtKeyItem]:
    cache_key = (tenant_id, mode)
    with _lock:
        cached = _public_cache.get(cache_key)
    if cached is not None:
        return cached
    keys = store.list_keys(mode, tenant_id)
    with _lock:
        _public_cache[cache_key] = keys
    return keys


def forget(tenant_id: str, mode: str) -> None:
    with _lock:
        _public_cache.pop((tenant_id, mode), None)
        _signer_cache.pop((tenant_id, mode), None)


def _signer(tenant_id: str, mode: str) -> tuple[str, Any]:
    cache_key = (tenant_id, mode)
    with _lock:
        cached = _signer_cache.get(cache_key)
    if cached is not None:
        return cached
    active = [k for k in _keys(tenant_id, mode) if k.isActive]
    if not active:
        raise NotFound("Tenant not found")
    key = active[0]
    from cryptography.hazmat.primitives import serialization

    pem = envelope.open_sealed(
        envelope.Sealed(key.encryptedPrivateKey, key.encryptedDataKey, key.nonce),
        _context(tenant_id, mode, key.kid),
    )
    private = serialization.load_pem_private_key(pem, password=None)
    with _lock:
        _signer_cache[cache_key] = (key.kid, private)
    return key.kid, private


def sign(tenant_id: str, mode: str, claims: dict[str, Any]) -> str:
    """Sign `claims` with the tenant+mode's current key; `kid` always in the header."""
    import jwt

    kid, private = _signer(tenant_id, mode)
    return jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": kid, "typ": "JWT"})


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict[str, Any]
    kid: str


def verify(
    token: str,
    *,
    tenant_id: str | None = None,
    mode: str | None = None,
    verify_exp: bool = True,
) -> VerifiedToken:
    """Check signature (RS256 only) against the key named by `kid`, then `exp`.

    Tenant and mode are read from the unverified payload only to choose the key set;
    the signature then proves them. Any failure is one `Unauthorized`.
    """
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthorized() from exc
    if header.get("alg") != ALGORITHM or not isinstance(unverified, dict):
        raise Unauthorized()
    claimed_tenant = unverified.get("tenantId")
    claimed_mode = unverified.get("mode")
    if not isinstance(claimed_tenant, str) or claimed_mode not in ("test", "live"):
        raise Unauthorized()
    if not TENANT_ID.match(claimed_tenant):
        raise Unauthorized()  # unsigned yet: never let it shape a key or a cache entry
    if (tenant_id and claimed_tenant != tenant_id) or (mode and claimed_mode != mode):
        raise Unauthorized()
    kid = header.get("kid")
    match = next((k for k in _keys(claimed_tenant, claimed_mode) if k.kid == kid), None)
    if match is None:
        raise Unauthorized()
    public = serialization.load_pem_public_key(match.publicKeyPem.encode())
    if not isinstance(public, rsa.RSAPublicKey):
        raise Unauthorized()  # only RSA keys are made here; PyJWT refuses others too
    try:
        claims = jwt.decode(
            token,
            public,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat"], "verify_exp": verify_exp, "verify_aud": False},
            leeway=5,
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized() from exc
    return VerifiedToken(claims=claims, kid=match.kid)


def _still_published(key: store.JwtKeyItem, max_token_seconds: int) -> bool:
    """Retired keys stay published while tokens they signed may still be unexpired."""
    if key.isActive or not key.retiredAt:
        return True
    age = (now() - parse_iso(key.retiredAt)).total_seconds()
    return age <= max_token_seconds


def published_keys(tenant_id: str, mode: str, max_token_seconds: int) -> list[store.JwtKeyItem]:
    keys = [k for k in store.list_keys(mode, tenant_id) if _still_published(k, max_token_seconds)]
    return sorted(keys, key=lambda k: (not k.isActive, k.createdAt), reverse=False)


def public_key_json(key: store.JwtKeyItem) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "publicKey": key.publicKeyPem,
        "publicKeyBase64": base64.b64encode(key.publicKeyPem.encode()).decode(),
        "algorithm": ALGORITHM,
        "mode": key.mode,
        "tenantId": key.tenantId,
        "isActive": key.isActive,
        "createdAt": key.createdAt,
    }


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk(key: store.JwtKeyItem) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    public = serialization.load_pem_public_key(key.publicKeyPem.encode())
    assert isinstance(
        public, rsa.RSAPublicKey
    )  # only RSA keys are ever made (new_signing_key_item)
    numbers = public.public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": ALGORITHM,
        "kid": key.kid,
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
    }


def expires_at(seconds: int) -> tuple[int, int, str]:
    """(iat, exp, ISO exp) for a token living `seconds` from now."""
    issued = int(time.time())
    expiry = issued + seconds
    return issued, expiry, iso(now().fromtimestamp(expiry, tz=now().tzinfo)) or ""
