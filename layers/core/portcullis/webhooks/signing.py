"""Placeholder of whconfig's signatures. whconfig provides this: deleted at the merge."""

# whconfig provides this

from __future__ import annotations

import hashlib
import hmac


def headers(  # whconfig provides this
    webhook_id: str, timestamp: int, body: bytes, secrets: list[str], bearer_key: str | None
) -> dict[str, str]:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    signatures = ",".join(
        "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets
    )
    out = {
        "Content-Type": "application/json",
        "User-Agent": "Portcullis-Webhooks/1.0",
        "X-Webhook-Id": webhook_id,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": signatures,
    }
    if bearer_key:
        out["Authorization"] = f"Bearer {bearer_key}"
    return out


def verify(
    header: str, webhook_id: str, timestamp: str, body: bytes, secret: str
) -> bool:  # whconfig provides this
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))
