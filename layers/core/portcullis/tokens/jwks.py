"""What the public key endpoints publish: every key that may still verify a live token.

That is the signing key, a key warming up after a rotation (published before it signs,
so verifiers' JWKS caches know it in time) and retired keys until the tenant's longest
token lifetime has passed since they stopped signing (docs/keyrotation.md)."""

from __future__ import annotations

from typing import Any

from portcullis.platform.errors import NotFound
from portcullis.platform.identifiers import TENANT_ID
from portcullis.platform.timefmt import now
from portcullis.store import tenants as tenant_store
from portcullis.store.jwtkeys import JwtKeyItem
from portcullis.tenancy import settings
from portcullis.tokens import signing as tokens


def _published(tenant_id: str, mode: str) -> list[JwtKeyItem]:
    if not TENANT_ID.match(tenant_id) or tenant_store.get_tenant(mode, tenant_id) is None:
        raise NotFound("Tenant not found")
    limits = settings.read(mode, tenant_id)
    longest = max(limits.accessTokenDuration, limits.refreshTokenDuration)
    return tokens.published_keys(tenant_id, mode, longest)


def public_keys(tenant_id: str, mode: str) -> list[dict[str, Any]]:
    """api-server §12.1: the signing key first with `isActive: true`, then the keys
    warming up or retired but still verifying, `isActive: false`."""
    keys = _published(tenant_id, mode)
    at = now()
    return [
        tokens.public_key_json(key, active=index == 0 and tokens.is_signing(key, at))
        for index, key in enumerate(keys)
    ]


def key_set(tenant_id: str, mode: str) -> dict[str, Any]:
    return {"keys": [tokens.jwk(key) for key in _published(tenant_id, mode)]}
