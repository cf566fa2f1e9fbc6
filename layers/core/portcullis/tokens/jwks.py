"""What the public key endpoints publish: every key that may still verify a live token."""

from __future__ import annotations

from typing import Any

from portcullis.platform.errors import NotFound
from portcullis.platform.identifiers import TENANT_ID
from portcullis.store import tenants as tenant_store
from portcullis.tenancy import settings
from portcullis.tokens import signing as tokens


def _published(tenant_id: str, mode: str) -> list[Any]:
    if not TENANT_ID.match(tenant_id) or tenant_store.get_tenant(mode, tenant_id) is None:
        raise NotFound("Tenant not found")
    limits = settings.read(mode, tenant_id)
    longest = max(limits.accessTokenDuration, limits.refreshTokenDuration)
    return tokens.published_keys(tenant_id, mode, longest)


def public_keys(tenant_id: str, mode: str) -> list[dict[str, Any]]:
    return [tokens.public_key_json(key) for key in _published(tenant_id, mode)]


def key_set(tenant_id: str, mode: str) -> dict[str, Any]:
    return {"keys": [tokens.jwk(key) for key in _published(tenant_id, mode)]}
