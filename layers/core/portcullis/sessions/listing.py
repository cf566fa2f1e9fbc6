"""Reading sessions back: the session object of both APIs (api-client §9.6, api-server
§1.8, rotation state never leaves), one session of its owner, and a user's sessions
most recently active first."""

from __future__ import annotations

import time

from portcullis.platform.timefmt import parse_iso
from portcullis.sessions.lifecycle import active
from portcullis.sessions.records import session_json
from portcullis.store import sessions as store
from portcullis.store.sessions import SessionItem

__all__ = ["session_json"]  # re-exported: the object lives in records.py

LIST_LIMIT = 100


# How many of a user's newest sessions a listing reads at most ("log out of all" reads all).
SCAN_LIMIT = 1000


ENDED_VISIBLE_SECONDS = 30 * 86_400


# Longer than any session id (a uuid): never looked up (DynamoDB keys are size-limited).
MAX_SESSION_ID_LENGTH = 64


def owned(session_id: str, mode: str, tenant_id: str, user_id: int) -> SessionItem | None:
    """One session of this user, ended or not; None for anyone else's."""
    item = store.get(session_id) if 0 < len(session_id) <= MAX_SESSION_ID_LENGTH else None
    if item is None or (item.mode, item.tenantId, int(item.userId)) != (mode, tenant_id, user_id):
        return None
    return item


def list_for_user(
    mode: str, tenant_id: str, user_id: int, *, active_only: bool = True
) -> list[SessionItem]:
    """A user's sessions, most recently active first. Active only, or also those that
    ended or expired within the last 30 days (api-server §7.9)."""
    now = int(time.time())
    found = list(store.user_sessions(mode, tenant_id, user_id, limit=SCAN_LIMIT))
    chosen = active(found, now) if active_only else [s for s in found if _recent(s, now)]
    return sorted(chosen, key=lambda s: (s.lastActiveAt, s.createdAt), reverse=True)


def _recent(item: SessionItem, now: int) -> bool:
    if not item.is_ended and int(item.expiresAt) > now:
        return True
    ended = int(parse_iso(item.endedAt).timestamp()) if item.endedAt else int(item.expiresAt)
    return now - min(ended, int(item.expiresAt)) <= ENDED_VISIBLE_SECONDS
