"""A session's life: opened at every completed sign-in (concepts §4) with the `jti` of
its first refresh token, signed into its token set, checked for being live, and ended —
one, or every session of a user. A session is named by the `sessionId` claim of its
tokens; every endpoint that accepts a user's access token looks it up, so ending it
stops access tokens at our endpoints at once, not only refresh tokens."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import (
    INVALID_TOKEN,
    Unauthorized,
)
from portcullis.platform.timefmt import now_iso, parse_iso
from portcullis.sessions import webhookevents
from portcullis.store import sessions as store
from portcullis.store.sessions import SessionItem
from portcullis.store.users import UserItem
from portcullis.tenancy.settings import TenantSettings

if TYPE_CHECKING:
    from portcullis.tokens import claims as token_claims

# Ended sessions stay readable (admin listing, audit) this long after they expire.
RETENTION_SECONDS = 30 * 86_400


# Sessions read per Query page by `end_all`.
END_PAGE = 50


# Longest User-Agent kept with a session (listed back to the user, api-client §9.6).
MAX_USER_AGENT = 512


_ISO_LENGTH = len("2000-01-01T00:00:00.000Z")


jti_digest = secret_digest


def new_session(
    user: UserItem,
    factors: dict[str, Any],
    *,
    ip: str,
    user_agent: str | None,
    refresh_seconds: int,
    now: int,
    authenticated_at: str | None = None,
    with_refresh: bool = True,
) -> tuple[SessionItem, str | None]:
    """A session item (not yet written: it commits with the sign-in's other writes) and
    the `jti` its first refresh token must carry. A PKCE sign-in opens the session
    without one; the exchange gives it its first (`issue_first_refresh`)."""
    created = now_iso()  # milliseconds: compared with the user's passwordChangedAt
    expires = now + int(refresh_seconds)
    jti = str(uuid.uuid4()) if with_refresh else None
    item = store.new_session_item(
        sessionId=str(uuid.uuid4()),
        tenantId=user.tenantId,
        mode=user.mode,
        userId=int(user.userId),
        userUuid=user.userUuid,
        kind="user",
        createdAt=created,
        lastActiveAt=created,
        authenticatedAt=authenticated_at or created,
        expiresAt=expires,
        ip=ip,
        lastIp=ip,
        userAgent=user_agent,
        authentication=factors,
        jtiDigest=jti_digest(jti) if jti else None,
        rot=0,
        refreshCount=0,
        ttl=expires + RETENTION_SECONDS,
    )
    return item, jti


def sign(
    session: SessionItem,
    user: UserItem,
    settings: TenantSettings,
    now: int,
    jti: str,
    *,
    tenant_name: str | None = None,
) -> token_claims.IssuedTokens:
    """The session's token set, its refresh token carrying `jti` (already recorded);
    `tenant_name` (of the tenant the caller read) feeds a custom JWT format."""
    # Imported here: the sessions' admin API (listing, ending) and token callers use this
    # module but sign nothing; sign-ins and refreshes, which do, have it loaded already.
    from portcullis.tokens import claims as token_claims

    return token_claims.sign_set(
        user,
        session.sessionId,
        dict(session.authentication or {}),
        jti=jti,
        rot=int(session.rot or 0),
        now=now,
        access_seconds=settings.accessTokenDuration,
        session_expires_at=int(session.expiresAt),
        access_format=settings.jwtFormat.format if settings.jwtFormat else None,
        tenant_name=tenant_name,
    )


def issue_first_refresh(
    session: SessionItem,
    user: UserItem,
    settings: TenantSettings,
    now: int,
    *,
    tenant_name: str | None = None,
) -> token_claims.IssuedTokens:
    """Tokens for a session opened without any (PKCE): succeeds once per session."""
    jti = str(uuid.uuid4())
    if not store.set_first_refresh(session, jti_digest(jti), now_iso()):
        raise Unauthorized(INVALID_TOKEN)
    return sign(session, user, settings, now, jti, tenant_name=tenant_name)


def is_live(session: SessionItem | None, claims: dict[str, Any], now: int | None = None) -> bool:
    """The session exists, belongs to the token's owner, and has neither ended nor expired."""
    if session is None or session.is_ended:
        return False
    at = int(time.time()) if now is None else now
    return (
        session.tenantId == claims.get("tenantId")
        and session.mode == claims.get("mode")
        and int(session.userId) == claims.get("userId")
        and int(session.expiresAt) > at
    )


def _later(first: str, second: str) -> bool:
    """`first > second` for ISO timestamps; ours all share one fixed-width UTC form, so
    they compare as text (parsing is the slowest step of a refresh otherwise)."""
    if len(first) == len(second) == _ISO_LENGTH and first[-1] == second[-1] == "Z":
        return first > second
    return parse_iso(first) > parse_iso(second)


def password_changed_since(user: UserItem, session: SessionItem) -> bool:
    if not user.passwordChangedAt:
        return False
    return _later(user.passwordChangedAt, session.authenticatedAt)


def end(session: SessionItem, reason: str) -> bool:
    return end_by_id(session.sessionId, session.mode, session.tenantId, int(session.userId), reason)


def end_by_id(session_id: str, mode: str, tenant_id: str, user_id: int, reason: str) -> bool:
    """End one session of this owner; False when it is unknown, someone else's or ended.
    Every way a session ends comes here, so `session.end` is announced here (opt-in)."""
    ended = store.end(
        session_id,
        mode=mode,
        tenant_id=tenant_id,
        user_id=user_id,
        ended_at=now_iso(),
        reason=reason,
    )
    if ended:
        webhookevents.announce_end(session_id, mode, tenant_id)
    return ended


def active(items: Iterable[SessionItem], now: int) -> list[SessionItem]:
    return [s for s in items if not s.is_ended and int(s.expiresAt) > now]


def end_all(
    mode: str,
    tenant_id: str,
    user_id: int,
    reason: str,
    *,
    except_session: str | None = None,
) -> list[str]:
    """End every active session of a user (optionally but one); returns the ended ids.

    Reads ALL the user's sessions, `END_PAGE` per Query page, however many there are
    (it used to read the newest 1,000 only, so session 1,001 outlived a password reset
    or a lock). Each is ended by its own conditional update: one that ended meanwhile
    is simply skipped. (A TransactWrite per page was tried: moto copies the whole table
    for every transaction, which made the local runtime take minutes and gigabytes.)
    """
    now = int(time.time())
    ended: list[str] = []
    for item in store.user_sessions(mode, tenant_id, user_id, page_size=END_PAGE):
        if item.sessionId == except_session or not active([item], now):
            continue
        if end(item, reason):
            ended.append(item.sessionId)
    return ended
