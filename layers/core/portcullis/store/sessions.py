"""Sessions: one item per sign-in, read on every token-authenticated request.

Key layout (docs/sessions.md):
- session: pk `SESSION#{sessionId}`, sk `SESSION`; gsi1 `SESSIONS#{mode}#{tenantId}#{userId}` /
  `{createdAt}#{sessionId}` lists one user's sessions newest first without a scan.

The item carries everything an access-token check needs (owner, mode, expiry, end), so
that check is one GetItem, and the refresh-rotation state (digest of the current
refresh token's `jti`, the previous one and its grace response), so a refresh is one
read of session + user + tenant settings and one conditional update. The refresh
token itself is never stored; the grace response is encrypted under a key only the
holder of the previous refresh token can derive (`sessions.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition

from portcullis.store.base import Gsi1, Item, condition_held, find
from portcullis.store.transactions import Update

SESSION_SK = "SESSION"


def session_pk(session_id: str) -> str:
    return f"SESSION#{session_id}"


def user_sessions_pk(mode: str, tenant_id: str, user_id: int) -> str:
    return f"SESSIONS#{mode}#{tenant_id}#{user_id}"


class SessionItem(Item):
    sessionId = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    userId = NumberAttribute()
    userUuid = UnicodeAttribute()
    kind = UnicodeAttribute(default="user")
    createdAt = UnicodeAttribute()
    lastActiveAt = UnicodeAttribute()
    # When the user last proved a credential in this session: a password changed after
    # it (by another session or an administrator) ends the session at its next refresh.
    authenticatedAt = UnicodeAttribute()
    expiresAt = NumberAttribute()  # epoch seconds; absolute end of the refresh token
    endedAt = UnicodeAttribute(null=True)
    endedReason = UnicodeAttribute(null=True)
    ip = UnicodeAttribute(null=True)
    lastIp = UnicodeAttribute(null=True)
    userAgent = UnicodeAttribute(null=True)
    authentication = JSONAttribute(default=dict)
    # Rotation state (concepts §2.5); never returned by any API.
    jtiDigest = UnicodeAttribute(null=True)
    rot = NumberAttribute(default=0)
    prevJtiDigest = UnicodeAttribute(null=True)
    rotatedAt = NumberAttribute(null=True)
    grace = UnicodeAttribute(null=True)
    refreshWindow = NumberAttribute(null=True)
    refreshCount = NumberAttribute(default=0)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_user: Gsi1[SessionItem] = Gsi1()

    @property
    def is_ended(self) -> bool:
        return self.endedAt is not None


def new_session_item(**fields: Any) -> SessionItem:
    item = SessionItem(session_pk(fields["sessionId"]), SESSION_SK, type="session", **fields)
    item.gsi1pk = user_sessions_pk(item.mode, item.tenantId, int(item.userId))
    item.gsi1sk = f"{item.createdAt}#{item.sessionId}"
    return item


def get(session_id: str) -> SessionItem | None:
    return find(SessionItem, session_pk(session_id), SESSION_SK, consistent_read=True)


def new_session_condition() -> Condition:
    return SessionItem.pk.does_not_exist()


def rotate(
    item: SessionItem,
    *,
    expected_jti_digest: str,
    jti_digest: str,
    rot: int,
    rotated_at: int,
    grace: str,
    last_active_at: str,
    last_ip: str,
    refresh_window: int,
    refresh_count: int,
) -> bool:
    """Make `jti_digest` current if the presented one still is; False if another
    refresh (or a log out) got there first."""
    return condition_held(
        item.update,
        actions=[
            SessionItem.jtiDigest.set(jti_digest),
            SessionItem.rot.set(rot),
            SessionItem.prevJtiDigest.set(expected_jti_digest),
            SessionItem.rotatedAt.set(rotated_at),
            SessionItem.grace.set(grace),
            SessionItem.lastActiveAt.set(last_active_at),
            SessionItem.lastIp.set(last_ip),
            SessionItem.refreshWindow.set(refresh_window),
            SessionItem.refreshCount.set(refresh_count),
        ],
        condition=(SessionItem.jtiDigest == expected_jti_digest)
        & SessionItem.endedAt.does_not_exist(),
    )


def set_first_refresh(item: SessionItem, jti_digest: str, last_active_at: str) -> bool:
    """Give a session created without tokens (PKCE) its first refresh token, once."""
    return condition_held(
        item.update,
        actions=[
            SessionItem.jtiDigest.set(jti_digest),
            SessionItem.rot.set(0),
            SessionItem.lastActiveAt.set(last_active_at),
        ],
        condition=SessionItem.jtiDigest.does_not_exist() & SessionItem.endedAt.does_not_exist(),
    )


def end(
    session_id: str,
    *,
    mode: str,
    tenant_id: str,
    user_id: int,
    ended_at: str,
    reason: str,
) -> bool:
    """End a session of this owner if it is not ended yet; True when this call ended it."""
    item = SessionItem(session_pk(session_id), SESSION_SK)
    return condition_held(
        item.update,
        actions=[
            SessionItem.endedAt.set(ended_at),
            SessionItem.endedReason.set(reason),
            SessionItem.grace.remove(),
        ],
        condition=SessionItem.pk.exists()
        & SessionItem.endedAt.does_not_exist()
        & (SessionItem.mode == mode)
        & (SessionItem.tenantId == tenant_id)
        & (SessionItem.userId == user_id),
    )


def authenticated_update(session_id: str, at: str) -> Update:
    """The session just proved a credential (its own password change), for that
    change's transaction."""
    item = SessionItem(session_pk(session_id), SESSION_SK)
    return Update(item, [SessionItem.authenticatedAt.set(at)], SessionItem.pk.exists())


def user_sessions(
    mode: str,
    tenant_id: str,
    user_id: int,
    *,
    limit: int | None = None,
    page_size: int | None = None,
) -> Iterator[SessionItem]:
    """A user's sessions, newest first (one gsi1 Query, paged by pynamodb)."""
    yield from SessionItem.by_user.query(
        user_sessions_pk(mode, tenant_id, user_id),
        scan_index_forward=False,
        limit=limit,
        page_size=page_size,
    )
