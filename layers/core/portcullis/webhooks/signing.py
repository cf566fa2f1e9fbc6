"""The headers of a webhook delivery and their HMAC signature (concepts §5.3).

`X-Webhook-Signature: v1=<hex>` is HMAC-SHA256, keyed with the workspace's signing
secret (`webhooks/secrets.py`), over the bytes `{X-Webhook-Id}.{X-Webhook-Timestamp}.`
followed by the raw body — so a receiver detects a changed body, a changed id (replayed
as another event) and a changed timestamp (replayed later; receivers reject timestamps
older than 5 minutes). During a rotation's 24-hour overlap one `v1=` value per secret is
sent, comma-separated, current secret first: a receiver that still holds the previous
secret keeps verifying. `verify` is the receiver's check (docs/webhooks.md shows it).
"""

from __future__ import annotations

import hashlib
import hmac

USER_AGENT = "Portcullis-Webhooks/1.0"
SCHEME = "v1"
TOLERANCE_SECONDS = 300


def signature(webhook_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 of `{id}.{timestamp}.{body}` under `secret`."""
    message = f"{webhook_id}.{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers(
    webhook_id: str,
    timestamp: int,
    body: bytes,
    secrets: list[str],
    bearer_key: str | None,
) -> dict[str, str]:
    """Every header of one delivery attempt. `secrets` current first (at least one);
    `bearer_key` the webhook API key to send as `Authorization`, when one can be sent
    (docs/webhooks.md "The Authorization header")."""
    if not secrets:
        raise ValueError("a webhook is never sent unsigned: no signing secret given")
    signed = ",".join(f"{SCHEME}={signature(webhook_id, timestamp, body, s)}" for s in secrets)
    result = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": webhook_id,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": signed,
    }
    if bearer_key:
        result["Authorization"] = f"Bearer {bearer_key}"
    return result


def verify(header: str, webhook_id: str, timestamp: int | str, body: bytes, secret: str) -> bool:
    """Whether one `v1=` value of `header` is the signature of this delivery under
    `secret` (constant-time comparison). The timestamp's age is the receiver's to check."""
    try:
        expected = signature(webhook_id, int(timestamp), body, secret)
    except ValueError:
        return False
    found = False
    for part in header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and hmac.compare_digest(value.encode(), expected.encode()):
            found = True  # keep comparing: the time taken does not say which one matched
    return found
