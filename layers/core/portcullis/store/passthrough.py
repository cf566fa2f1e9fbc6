"""Passthrough migration settings: one item per tenant and mode (concepts §7.2, §7.3).

`settings` holds what is not secret (URL, method, body template, ...), in clear, as the
admin API reads it back. `sealed` holds the secrets (header values, `passthroughCode`,
the Cognito client secret) as ONE KMS-envelope-encrypted JSON string, so a log-in that
calls the upstream costs one KMS Decrypt whatever the number of secrets. The expected
`passbackCode` is kept only as its SHA-256 digest: it is compared, never sent. The item
lives in the tenant's partition, so deleting the tenant purges it.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from portcullis.store.base import Item, delete_found, find, owned_item, saved, tenant_pk

SK = "PASSTHROUGH"


class PassthroughItem(Item):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    settings = JSONAttribute(default=dict)
    sealed = UnicodeAttribute(null=True)  # sealed JSON object of the secrets
    passbackDigest = UnicodeAttribute(null=True)  # SHA-256 hex of the expected passbackCode
    updatedAt = UnicodeAttribute()


def get(mode: str, tenant_id: str) -> PassthroughItem | None:
    return find(PassthroughItem, tenant_pk(mode, tenant_id), SK)


def put(
    mode: str,
    tenant_id: str,
    *,
    settings: dict[str, Any],
    sealed: str | None,
    passback_digest: str | None,
    updated_at: str,
) -> PassthroughItem:
    item = owned_item(
        PassthroughItem,
        SK,
        "passthrough",
        mode=mode,
        tenant_id=tenant_id,
        settings=settings,
        sealed=sealed,
        passbackDigest=passback_digest,
        updatedAt=updated_at,
    )
    return saved(item)


def delete(mode: str, tenant_id: str) -> bool:
    """Remove the item; False when there was none."""
    return delete_found(get(mode, tenant_id))
