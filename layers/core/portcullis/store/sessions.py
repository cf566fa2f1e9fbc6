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

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from portcullis.store.base import Gsi1, Item, connection, tenant_pk
from portcullis.store.tenants import SETTINGS_SK, TENANT_SK, SettingsItem, TenantItem
from portcullis.store.users import UserItem, user_sk, users_pk

SESSION_SK = "SESSION"
CONTENTION_ATTEMPTS = 4


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
    by_user = Gsi1()

    @property
    def is_ended(self) -> bool:
        return self.endedAt is not None


def new_session_item(**fields: Any) -> SessionItem:
    item = SessionItem(session_pk(fields["sessionId"]), SESSION_SK, type="session")
    for key, value in fields.items():
        setattr(item, key, value)
    item.gsi1pk = user_sessions_pk(item.mode, item.tenantId, int(item.userId))
    item.gsi1sk = f"{item.createdAt}#{item.sessionId}"
    return item


def get(session_id: str) -> SessionItem | None:
    try:
        return SessionItem.get(session_pk(session_id), SESSION_SK, consistent_read=True)
    except DoesNotExist:
        return None


@dataclass
class Snapshot:
    """What one TransactGetItems call read; `None` for an item that does not exist."""

    session: SessionItem | None
    user: UserItem | None
    tenant: TenantItem | None
    settings: dict[str, Any] | None


def _resolve(future: Any) -> Any:
    try:
        return future.get()
    except DoesNotExist:
        return None


def read_snapshot(
    session_id: str | None,
    mode: str,
    tenant_id: str,
    user_id: int | None,
    *,
    with_tenant: bool = True,
    with_settings: bool = True,
) -> Snapshot:
    """Session, user, tenant and tenant settings in one strongly consistent call.

    The session and the user are addressed by the ids the (signature-checked) token
    claims; the caller still compares the session's owner with the claims.
    """
    futures: dict[str, Any] = {}
    with TransactGet(connection=connection()) as tx:
        if session_id is not None:
            futures["session"] = tx.get(SessionItem, session_pk(session_id), SESSION_SK)
        if user_id is not None:
            futures["user"] = tx.get(UserItem, users_pk(mode, tenant_id), user_sk(user_id))
        if with_tenant:
            futures["tenant"] = tx.get(TenantItem, tenant_pk(mode, tenant_id), TENANT_SK)
        if with_settings:
            futures["settings"] = tx.get(SettingsItem, tenant_pk(mode, tenant_id), SETTINGS_SK)
    settings_item = _resolve(futures["settings"]) if with_settings else None
    return Snapshot(
        session=_resolve(futures["session"]) if "session" in futures else None,
        user=_resolve(futures["user"]) if "user" in futures else None,
        tenant=_resolve(futures["tenant"]) if "tenant" in futures else None,
        settings=dict(settings_item.overrides or {}) if settings_item else None,
    )


@dataclass
class Update:
    """An UpdateItem to run inside a transaction (e.g. the user's `lastActiveAt`)."""

    item: Model
    actions: list[Action]
    condition: Condition | None = None


class WriteConflict(Exception):
    """A condition of the transaction failed; `index` names the failed write."""

    def __init__(self, index: int | None) -> None:
        super().__init__(index)
        self.index = index


def commit(
    saves: list[Item],
    updates: list[Update],
    *,
    save_conditions: dict[int, Condition] | None = None,
) -> None:
    """Write items and updates all or nothing (one TransactWriteItems call).

    A transaction DynamoDB cancels because another one touched the same item at that
    moment (two sign-ins of one user) wrote nothing, so it is simply tried again.
    """
    conditions = save_conditions or {}
    for attempt in range(CONTENTION_ATTEMPTS):
        try:
            with TransactWrite(connection=connection()) as tx:
                for index, item in enumerate(saves):
                    tx.save(item, condition=conditions.get(index))
                for update in updates:
                    tx.update(update.item, actions=update.actions, condition=update.condition)
            return
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if "ConditionalCheckFailed" in reasons:
                raise WriteConflict(reasons.index("ConditionalCheckFailed")) from exc
            contended = "TransactionConflict" in reasons or exc.cause_response_code in (
                "TransactionConflictException",
                "TransactionInProgressException",
            )
            if not contended or attempt == CONTENTION_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 (jitter)


def new_session_condition() -> Condition:
    return SessionItem.pk.does_not_exist()


def _conditional_update(item: SessionItem, actions: list[Action], condition: Condition) -> bool:
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


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
    return _conditional_update(
        item,
        [
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
        (SessionItem.jtiDigest == expected_jti_digest) & SessionItem.endedAt.does_not_exist(),
    )


def set_first_refresh(item: SessionItem, jti_digest: str, last_active_at: str) -> bool:
    """Give a session created without tokens (PKCE) its first refresh token, once."""
    return _conditional_update(
        item,
        [
            SessionItem.jtiDigest.set(jti_digest),
            SessionItem.rot.set(0),
            SessionItem.lastActiveAt.set(last_active_at),
        ],
        SessionItem.jtiDigest.does_not_exist() & SessionItem.endedAt.does_not_exist(),
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
    return _conditional_update(
        item,
        [
            SessionItem.endedAt.set(ended_at),
            SessionItem.endedReason.set(reason),
            SessionItem.grace.remove(),
        ],
        SessionItem.pk.exists()
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
