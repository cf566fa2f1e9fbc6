"""JWT signing keys: public part in clear, private part envelope-encrypted with KMS."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from portcullis.store.base import Item, tenant_pk

PREFIX = "JWTKEY#"


class JwtKeyItem(Item):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    kid = UnicodeAttribute()
    algorithm = UnicodeAttribute(default="RS256")
    publicKeyPem = UnicodeAttribute()
    encryptedPrivateKey = UnicodeAttribute()
    encryptedDataKey = UnicodeAttribute()
    nonce = UnicodeAttribute()
    isActive = BooleanAttribute()
    createdAt = UnicodeAttribute()
    retiredAt = UnicodeAttribute(null=True)


def new_key_item(
    tenant_id: str,
    mode: str,
    kid: str,
    created_at: str,
    *,
    publicKeyPem: str,
    encryptedPrivateKey: str,
    encryptedDataKey: str,
    nonce: str,
) -> JwtKeyItem:
    return JwtKeyItem(
        tenant_pk(mode, tenant_id),
        f"{PREFIX}{created_at}#{kid}",
        type="jwtkey",
        tenantId=tenant_id,
        mode=mode,
        kid=kid,
        isActive=True,
        createdAt=created_at,
        publicKeyPem=publicKeyPem,
        encryptedPrivateKey=encryptedPrivateKey,
        encryptedDataKey=encryptedDataKey,
        nonce=nonce,
    )


def list_keys(mode: str, tenant_id: str) -> list[JwtKeyItem]:
    """Newest first, so the key currently signing comes first."""
    return list(
        JwtKeyItem.query(
            tenant_pk(mode, tenant_id),
            JwtKeyItem.sk.startswith(PREFIX),
            scan_index_forward=False,
        )
    )
