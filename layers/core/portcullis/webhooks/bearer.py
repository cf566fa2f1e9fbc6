"""The webhook API key sent as `Authorization: Bearer <key>` (concepts §5.3).

API keys are stored as digests only, which cannot be sent. So a webhook key (type
`webhook`) is, from issue 11 on, also stored KMS-envelope-encrypted at creation
(`access/apikeys.new_key` calls `seal`), bound to its tenant and mode. A delivery sends
the most recently created active webhook key of the tenant whose setting named the URL;
a tenant with none (or only keys created before issue 11, which cannot be recovered)
gets its webhooks without the header — the HMAC signature is always there
(docs/webhooks.md "The Authorization header").
"""

from __future__ import annotations

from portcullis.store import apikeys as key_store
from portcullis.webhooks.secrets import open_text, seal_text


def _context(mode: str, tenant_id: str) -> str:
    return f"webhook-key:{mode}:{tenant_id}"


def seal(full_key: str, mode: str, tenant_id: str) -> str:
    return seal_text(full_key, _context(mode, tenant_id))


def bearer_key(mode: str, tenant_id: str) -> str | None:
    """The newest active, recoverable webhook key of the tenant, or None."""
    for item in key_store.list_keys(mode, tenant_id, "webhook"):  # newest first
        if item.isActive and item.sealedKey:
            return open_text(item.sealedKey, _context(mode, tenant_id))
    return None
