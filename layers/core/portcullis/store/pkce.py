"""PKCE authorization codes (api-client §7.11), stored by the SHA-256 digest of the code.

Key layout (docs/auth.md):
- code: pk `PKCE#{sha256(code)}`, sk `PKCE`; `ttl` = expiry (60 s).

Redemption is a conditional DeleteItem returning the old item, so a code is used at
most once even when two exchanges race.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from portcullis.store.base import Item, take

PKCE_SK = "PKCE"


class PkceCodeItem(Item):
    mode = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    userId = NumberAttribute()
    sessionId = UnicodeAttribute()
    codeChallenge = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    expiresAt = NumberAttribute()


def pkce_pk(digest: str) -> str:
    return f"PKCE#{digest}"


def new_code_item(digest: str, **fields: object) -> PkceCodeItem:
    item = PkceCodeItem(pkce_pk(digest), PKCE_SK, type="pkce")
    for key, value in fields.items():
        setattr(item, key, value)
    item.ttl = int(item.expiresAt)
    return item


def consume(digest: str, *, tenant_id: str, now: int) -> PkceCodeItem | None:
    """Delete and return the code if it belongs to `tenant_id` and has not expired."""
    condition = (
        PkceCodeItem.pk.exists()
        & (PkceCodeItem.tenantId == tenant_id)
        & (PkceCodeItem.expiresAt > now)
    )
    return take(PkceCodeItem, pkce_pk(digest), PKCE_SK, condition)
