"""The session object of the API (api-client §9.6, api-server §1.8, docs/sessions.md).

Its own module, importing nothing of `sessions/`: the listing, and the session webhook
events that `lifecycle` writes, both render it without an import cycle."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from portcullis.platform.timefmt import iso
from portcullis.store.sessions import SessionItem


def _from_epoch(seconds: int) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC)) or ""


def session_json(item: SessionItem, current: str | None = None) -> dict[str, Any]:
    """The session object (api-client §9.6, api-server §1.8); rotation state never leaves."""
    now = int(time.time())
    factors = dict(item.authentication or {})
    return {
        "sessionId": item.sessionId,
        "isCurrent": item.sessionId == current,
        "isActive": not item.is_ended and int(item.expiresAt) > now,
        "userId": int(item.userId),
        "userUuid": item.userUuid,
        "tenantId": item.tenantId,
        "mode": item.mode,
        "createdAt": item.createdAt,
        "lastActiveAt": item.lastActiveAt,
        "expiresAt": _from_epoch(int(item.expiresAt)),
        "endedAt": item.endedAt,
        "revokedAt": item.endedAt,
        "endedReason": item.endedReason,
        "ipAddress": item.ip,
        "lastIpAddress": item.lastIp,
        "userAgent": item.userAgent,
        "authentication": {
            "firstFactor": factors.get("firstFactor"),
            "secondFactor": factors.get("secondFactor"),
        },
    }
