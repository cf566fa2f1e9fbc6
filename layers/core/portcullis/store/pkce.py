"""PKCE authorization codes (api-client §7.11), stored by the SHA-256 digest of the code.

Key layout (docs/auth.md):
- code: pk `PKCE#{sha256(code)}`, sk `PKCE`; `ttl` = expiry (60 s).

Redemption is a conditional DeleteItem returning the old item, so a code is used at
most once even when two exchanges race.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from portcullis.store.base import Item, owned_item, take
from portcullis.store.sessions import SessionItem

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


def new_code_item(
    digest: str, session: SessionItem, challenge: str, *, created_at: str, expires_at: int
) -> PkceCodeItem:
    """The code that opens `session`: it carries the session's tenant, mode, user and id,
    and DynamoDB drops it once it has expired (`ttl`)."""
    return owned_item(
        PkceCodeItem,
        PKCE_SK,
        "pkce",
        pk=pkce_pk(digest),
        mode=session.mode,
        tenant_id=session.tenantId,
        userId=int(session.userId),
        sessionId=session.sessionId,
        codeChallenge=challenge,
        createdAt=created_at,
        expiresAt=expires_at,
        ttl=expires_at,
    )


def consume(digest: str, *, tenant_id: str, now: int) -> PkceCodeItem | None:
    """Delete and return the code if it belongs to `tenant_id` and has not expired."""
    condition = (
        PkceCodeItem.pk.exists()
        & (PkceCodeItem.tenantId == tenant_id)
        & (PkceCodeItem.expiresAt > now)
    )
    return take(PkceCodeItem, pkce_pk(digest), PKCE_SK, condition)
