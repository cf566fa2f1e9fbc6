"""RS256 signing keys per tenant and mode, token signing and verification (RFC 7519/8725).

Private keys live in the table only envelope-encrypted (`envelope.py`); a Lambda
instance decrypts the key it signs with once and keeps it in memory. Verification
accepts RS256 only and always checks `exp`. PyJWT and cryptography are imported on
first use, so functions that never touch a token do not pay for them at cold start.

A tenant and mode may hold several keys at once (rotation, `tokens/rotation.py`): the
token's `kid` picks the key, among those still valid; exactly one of them signs at any
moment. Each instance keeps a short-lived copy of the key list; a kid it does not know
makes it read the list again, at most once per RELOAD_SECONDS.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from cachetools import TTLCache

from portcullis.platform.errors import NotFound, Unauthorized
from portcullis.platform.identifiers import TENANT_ID
from portcullis.platform.timefmt import iso, now, now_iso, parse_iso
from portcullis.store import jwtkeys as store
from portcullis.tokens import envelope

ALGORITHM = "RS256"
# How long an instance trusts its copy of a tenant's key list. A key removed for
# compromise stops verifying everywhere within this time (docs/keyrotation.md); it is
# also the grace a retired key gets after its retention, for instances that went on
# signing with it until their copy learnt of an immediate rotation.
CACHE_SECONDS = 60
# A token naming a kid the copy does not hold reloads the list, at most this often per
# tenant and mode: made-up kids cannot buy a DynamoDB read per request.
RELOAD_SECONDS = 10
# Bounded: verification reads the key set of whichever tenant a token names before its
# signature is checked, so made-up tenant ids must not grow memory without end.
# Least recently used entries go first (expired ones before them).
MAX_CACHED_TENANTS = 1024


class _Signer(NamedTuple):
    kid: str
    private: Any
    until: float  # epoch seconds: the cached key stops signing then (a successor starts)


_lock = threading.Lock()
_public_cache: TTLCache[tuple[str, str], list[store.JwtKeyItem]] = TTLCache(
    maxsize=MAX_CACHED_TENANTS, ttl=CACHE_SECONDS, timer=time.monotonic
)
_reloaded: TTLCache[tuple[str, str], bool] = TTLCache(
    maxsize=MAX_CACHED_TENANTS, ttl=RELOAD_SECONDS, timer=time.monotonic
)
_longest_cache: TTLCache[tuple[str, str], int] = TTLCache(
    maxsize=MAX_CACHED_TENANTS, ttl=CACHE_SECONDS, timer=time.monotonic
)
_signer_cache: TTLCache[tuple[str, str], _Signer] = TTLCache(
    maxsize=MAX_CACHED_TENANTS, ttl=CACHE_SECONDS, timer=time.monotonic
)


def _context(tenant_id: str, mode: str, kid: str) -> str:
    return f"jwtkey:{tenant_id}:{mode}:{kid}"


def new_signing_key_item(
    tenant_id: str, mode: str, *, activates_at: str | None = None
) -> store.JwtKeyItem:
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
        activates_at=activates_at,
    )


# --- The timeline of a key (docs/keyrotation.md) -------------------------------------
# A key is published from its creation, signs from `activatesAt` until `retiredAt`, and
# verifies until `retiredAt` + the tenant's longest token lifetime (+ CACHE_SECONDS).


def activates_at(key: store.JwtKeyItem) -> datetime:
    return parse_iso(key.activatesAt or key.createdAt)


def is_pending(key: store.JwtKeyItem, at: datetime) -> bool:
    """Published (warming up in JWKS caches) but not signing yet."""
    return activates_at(key) > at


def is_retired(key: store.JwtKeyItem, at: datetime) -> bool:
    return key.retiredAt is not None and parse_iso(key.retiredAt) <= at


def is_signing(key: store.JwtKeyItem, at: datetime) -> bool:
    return not is_pending(key, at) and not is_retired(key, at)


def verifies(key: store.JwtKeyItem, at: datetime, longest: int) -> bool:
    """Whether a token this key signed may still be unexpired at `at`."""
    if key.retiredAt is None:
        return True
    grace = timedelta(seconds=longest + CACHE_SECONDS)
    return at <= parse_iso(key.retiredAt) + grace


def signing_key(keys: list[store.JwtKeyItem], at: datetime) -> store.JwtKeyItem | None:
    """The key that signs at `at`: the chain has exactly one; of a damaged chain, the
    latest activated."""
    signing = [k for k in keys if is_signing(k, at)]
    return max(signing, key=activates_at) if signing else None


def in_order(keys: list[store.JwtKeyItem], at: datetime) -> list[store.JwtKeyItem]:
    """The signing key first (clients take `results[0]`), then the others, newest first."""
    current = signing_key(keys, at)
    others = sorted(
        (k for k in keys if k is not current), key=lambda k: (activates_at(k), k.sk), reverse=True
    )
    return [current, *others] if current is not None else others


# --- Per-instance copies of the key list and of the signer ----------------------------


def _load(tenant_id: str, mode: str, *, consistent: bool = False) -> list[store.JwtKeyItem]:
    keys = store.list_keys(mode, tenant_id, consistent=consistent)
    with _lock:
        _public_cache[(tenant_id, mode)] = keys
        _reloaded[(tenant_id, mode)] = True
    return keys


def _keys(tenant_id: str, mode: str) -> list[store.JwtKeyItem]:
    with _lock:
        cached = _public_cache.get((tenant_id, mode))
    return cached if cached is not None else _load(tenant_id, mode)


def _may_reload(tenant_id: str, mode: str) -> bool:
    """At most one reload per tenant and mode in RELOAD_SECONDS (a load counts too)."""
    with _lock:
        if _reloaded.get((tenant_id, mode)):
            return False
        _reloaded[(tenant_id, mode)] = True
    return True


def _longest(tenant_id: str, mode: str) -> int:
    """The tenant's longest token lifetime: how long a retired key keeps verifying."""
    with _lock:
        cached = _longest_cache.get((tenant_id, mode))
    if cached is not None:
        return cached
    from portcullis.tenancy import settings

    limits = settings.read(mode, tenant_id)
    longest = max(limits.accessTokenDuration, limits.refreshTokenDuration)
    with _lock:
        _longest_cache[(tenant_id, mode)] = longest
    return longest


def forget(tenant_id: str, mode: str) -> None:
    """Drop this instance's copies (after a rotation or removal made here)."""
    with _lock:
        for cache in (_public_cache, _signer_cache, _longest_cache, _reloaded):
            cache.pop((tenant_id, mode), None)


def _signer(tenant_id: str, mode: str) -> _Signer:
    cache_key = (tenant_id, mode)
    with _lock:
        cached = _signer_cache.get(cache_key)
    if cached is not None and time.time() < cached.until:
        return cached
    at = now()
    key = signing_key(_keys(tenant_id, mode), at)
    if key is None:  # a copy from before a rotation was committed: read the chain again
        key = signing_key(_load(tenant_id, mode, consistent=True), at)
    if key is None:
        raise NotFound("Tenant not found")
    from cryptography.hazmat.primitives import serialization

    pem = envelope.open_sealed(
        envelope.Sealed(key.encryptedPrivateKey, key.encryptedDataKey, key.nonce),
        _context(tenant_id, mode, key.kid),
    )
    private = serialization.load_pem_private_key(pem, password=None)
    until = time.time() + CACHE_SECONDS
    if key.retiredAt is not None:  # its successor is warming up: switch on time
        until = min(until, parse_iso(key.retiredAt).timestamp())
    signer = _Signer(key.kid, private, until)
    with _lock:
        _signer_cache[cache_key] = signer
    return signer


def sign(tenant_id: str, mode: str, claims: dict[str, Any]) -> str:
    """Sign `claims` with the tenant+mode's current key; `kid` always in the header."""
    import jwt

    signer = _signer(tenant_id, mode)
    return jwt.encode(
        claims, signer.private, algorithm=ALGORITHM, headers={"kid": signer.kid, "typ": "JWT"}
    )


class VerifiedToken(NamedTuple):
    claims: dict[str, Any]
    kid: str


def _verifying_key(tenant_id: str, mode: str, kid: object) -> store.JwtKeyItem:
    """The still-valid key named by a token's `kid` (else 401). A kid this instance's
    copy does not hold (a rotation made elsewhere) reloads the copy, rate-limited."""
    if not isinstance(kid, str) or not kid:
        raise Unauthorized()
    match = next((k for k in _keys(tenant_id, mode) if k.kid == kid), None)
    if match is None and _may_reload(tenant_id, mode):
        match = next((k for k in _load(tenant_id, mode) if k.kid == kid), None)
    if match is None:
        raise Unauthorized()
    if match.retiredAt is not None and not verifies(match, now(), _longest(tenant_id, mode)):
        raise Unauthorized()  # retired long enough ago that nothing it signed is valid
    return match


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
    match = _verifying_key(claimed_tenant, claimed_mode, header.get("kid"))
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


def published_keys(tenant_id: str, mode: str, max_token_seconds: int) -> list[store.JwtKeyItem]:
    """Every key that may still verify an unexpired token (pending ones included: they
    are published before they sign), the signing key first. Read from the table, not
    from this instance's copy: verifiers cache the answer themselves."""
    at = now()
    keys = [k for k in store.list_keys(mode, tenant_id) if verifies(k, at, max_token_seconds)]
    return in_order(keys, at)


def public_key_json(key: store.JwtKeyItem, *, active: bool) -> dict[str, Any]:
    """The api-server §12.1 object; `active`: the key signs now."""
    return {
        "kid": key.kid,
        "publicKey": key.publicKeyPem,
        "publicKeyBase64": base64.b64encode(key.publicKeyPem.encode()).decode(),
        "algorithm": ALGORITHM,
        "mode": key.mode,
        "tenantId": key.tenantId,
        "isActive": active,
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
