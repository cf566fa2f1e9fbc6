"""Webhook signing secrets: one item per workspace and mode (concepts §5.3).

The item holds the current secret and, for the 24 hours after a rotation, the previous
one with `previousUntil`. Both are envelope-encrypted with KMS by the caller
(`tokens/envelope.py`): unlike API keys they must be recoverable, to sign. Each sealed
secret is one JSON string (ciphertext, data key, nonce). `version` makes a rotation a
compare-and-set: two concurrent rotations cannot both keep "their" previous secret.
The item lives in the workspace's partition, so deleting the workspace purges it.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from portcullis.store.base import Versioned, find, owned_item, save_versioned, tenant_pk

SK = "WEBHOOKSECRET"


class SecretChanged(Exception):
    """Another writer created or rotated the secret first; read it again."""


class WebhookSecretItem(Versioned):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    current = UnicodeAttribute()  # sealed secret (JSON)
    previous = UnicodeAttribute(null=True)  # sealed secret (JSON) during the overlap
    previousUntil = UnicodeAttribute(null=True)  # ISO 8601: end of the overlap
    rotatedAt = UnicodeAttribute()


def get_secret(mode: str, workspace_id: str) -> WebhookSecretItem | None:
    return find(WebhookSecretItem, tenant_pk(mode, workspace_id), SK, consistent_read=True)


def put_secret(
    mode: str,
    workspace_id: str,
    *,
    current: str,
    previous: str | None,
    previous_until: str | None,
    rotated_at: str,
    replaces: WebhookSecretItem | None,
) -> WebhookSecretItem:
    """Write the new state if the stored one is still `replaces` (None: none stored)."""
    item = owned_item(
        WebhookSecretItem,
        SK,
        "webhooksecret",
        mode=mode,
        tenant_id=workspace_id,
        current=current,
        previous=previous,
        previousUntil=previous_until,
        rotatedAt=rotated_at,
    )
    return save_versioned(item, replaces, SecretChanged)
