"""The webhook signing secret of a workspace (top-level tenant) per mode (concepts §5.3).

`rotate` makes a new secret `whsec_<64 hex>` (256 bits from the CSPRNG), answers it once
and keeps the previous one signing for 24 hours, so receivers can switch without losing
a delivery. `signing_secrets` is what a delivery signs with: the current secret, then the
previous one while the overlap lasts. A workspace that never rotated gets its first
secret on first use (the first delivery, or the first rotation): simplest for
the admin, and a webhook is never sent unsigned. Its value is then read by rotating
(docs/webhooks.md "Signing secret"). Secrets are stored KMS-envelope-encrypted
(`tokens/envelope.py`), bound to the workspace and mode by the encryption context.
"""

from __future__ import annotations

import json
import secrets as random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from portcullis.platform.errors import Forbidden
from portcullis.platform.timefmt import now_iso
from portcullis.store import webhooksecrets as store
from portcullis.store.tenants import TenantItem
from portcullis.tokens import envelope

PREFIX = "whsec_"
OVERLAP = timedelta(hours=24)
_ATTEMPTS = 5


def _context(mode: str, workspace_id: str) -> str:
    return f"webhook-secret:{mode}:{workspace_id}"


def seal_text(text: str, context: str) -> str:
    """`text` KMS-envelope-encrypted and bound to `context`, as one JSON string."""
    sealed = envelope.seal(text.encode(), context)
    return json.dumps({"c": sealed.ciphertext, "k": sealed.encrypted_data_key, "n": sealed.nonce})


def open_text(stored: str, context: str) -> str:
    raw = json.loads(stored)
    sealed = envelope.Sealed(ciphertext=raw["c"], encrypted_data_key=raw["k"], nonce=raw["n"])
    return envelope.open_sealed(sealed, context).decode()


def _seal(secret: str, mode: str, workspace_id: str) -> str:
    return seal_text(secret, _context(mode, workspace_id))


def _open(stored: str, mode: str, workspace_id: str) -> str:
    return open_text(stored, _context(mode, workspace_id))


def new_secret() -> str:
    return PREFIX + random.token_hex(32)


def _in_overlap(item: store.WebhookSecretItem, now: datetime) -> bool:
    if item.previous is None or item.previousUntil is None:
        return False
    until = datetime.fromisoformat(item.previousUntil.replace("Z", "+00:00"))
    return now < until


def rotate(mode: str, workspace_id: str) -> str:
    """Create or replace the signing secret; answers the new one (shown once). The one it
    replaces keeps signing for 24 hours; one still in an earlier overlap is dropped."""
    for _ in range(_ATTEMPTS):
        stored = store.get_secret(mode, workspace_id)
        secret = new_secret()
        now = datetime.now(UTC)
        until = (now + OVERLAP).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        try:
            store.put_secret(
                mode,
                workspace_id,
                current=_seal(secret, mode, workspace_id),
                previous=stored.current if stored else None,
                previous_until=until if stored else None,
                rotated_at=now_iso(),
                replaces=stored,
            )
        except store.SecretChanged:
            continue  # a concurrent rotation won: rotate on top of it
        return secret
    raise RuntimeError("webhook secret kept changing during rotation")


def signing_secrets(mode: str, workspace_id: str) -> list[str]:
    """The secrets a delivery signs with, current first; creates the first one when the
    workspace has none yet (empty only if the workspace was deleted meanwhile)."""
    stored = store.get_secret(mode, workspace_id)
    if stored is None:
        secret = new_secret()
        try:
            store.put_secret(
                mode,
                workspace_id,
                current=_seal(secret, mode, workspace_id),
                previous=None,
                previous_until=None,
                rotated_at=now_iso(),
                replaces=None,
            )
            return [secret]
        except store.SecretChanged:
            stored = store.get_secret(mode, workspace_id)
            if stored is None:  # created and gone again (workspace deleted): nothing signs
                return []
    result = [_open(stored.current, mode, workspace_id)]
    if _in_overlap(stored, datetime.now(UTC)) and stored.previous is not None:
        result.append(_open(stored.previous, mode, workspace_id))
    return result


def workspace_of(tenant_id: str, ancestor_ids: Sequence[str]) -> str:
    """The workspace whose secret signs an event of `tenant_id`: the last of its
    ancestors (nearest first, as in `TenantItem.ancestors` and the event's
    `ancestorTenantIds`), or the tenant itself when it is a workspace."""
    return ancestor_ids[-1] if ancestor_ids else tenant_id


def rotate_for(tenant: TenantItem) -> str:
    """`rotate` for a tenant the caller may administer (already checked): only a
    workspace has a signing secret, so a child tenant's admin is refused (403) even on
    its own tenant — the secret signs every tenant's webhooks of the workspace."""
    if tenant.ancestors:
        raise Forbidden()
    return rotate(tenant.mode, tenant.tenantId)
