"""Sessions: creation, token issuance, refresh rotation, revocation, listing (concepts §4).

A session starts at every completed sign-in and is named by the `sessionId` claim of
its tokens. Every endpoint that accepts a user's access token looks the session up,
so log out stops access tokens at our endpoints at once, not only refresh tokens.

Refresh rotation (concepts §2.5, README rule 1): each refresh issues a new refresh
token (`jti`, `rot + 1`) and makes its digest current. The token just replaced stays
usable for `GRACE_SECONDS` and then returns the very same new pair, so parallel tabs
that refresh together all end up with one pair. That pair is kept on the session
encrypted with AES-256-GCM under a key derived (HKDF) from the replaced refresh token
itself: only a holder of that token can read it, a table dump reveals nothing, and no
KMS call is needed on the hot path. Any other non-current token ends the session
(`refresh_reuse`): it can only be a copy an attacker kept.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portcullis.auth.context import MAX_USER_AGENT, Request
from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import (
    CLIENT_RATE_LIMITED,
    INVALID_TOKEN,
    Forbidden,
    TooManyRequests,
    Unauthorized,
)
from portcullis.platform.identifiers import bearer
from portcullis.platform.timefmt import iso, now_iso, parse_iso
from portcullis.ratelimit import authfailures, perip
from portcullis.store import sessions as store
from portcullis.store import snapshots
from portcullis.store.sessions import SessionItem
from portcullis.store.tenants import TenantItem
from portcullis.store.users import UserItem
from portcullis.tenancy import modes
from portcullis.tenancy.settings import TenantSettings
from portcullis.tenancy.state import remember, settings_from, tenant_state
from portcullis.tokens import claims as token_claims
from portcullis.tokens import signing as tokens

log = logging.getLogger(__name__)

GRACE_SECONDS = 30
LIST_LIMIT = 100
# How many of a user's newest sessions a listing reads at most ("log out of all" reads all).
SCAN_LIMIT = 1000
# Sessions read per Query page by `end_all`.
END_PAGE = 50
ENDED_VISIBLE_SECONDS = 30 * 86_400
# Ended sessions stay readable (admin listing, audit) this long after they expire.
RETENTION_SECONDS = 30 * 86_400
USER_LOCKED = "User is locked"
# Longer than any session id (a uuid): never looked up (DynamoDB keys are size-limited).
MAX_SESSION_ID_LENGTH = 64
_GRACE_SALT = b"portcullis/refresh-grace/v1"
_ISO_LENGTH = len("2000-01-01T00:00:00.000Z")


jti_digest = secret_digest


def _from_epoch(seconds: int) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC)) or ""


# ----------------------------------------------------------------------------- creation


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
    session: SessionItem, user: UserItem, settings: TenantSettings, now: int, jti: str
) -> token_claims.IssuedTokens:
    """The session's token set, its refresh token carrying `jti` (already recorded)."""
    return token_claims.sign_set(
        user,
        session.sessionId,
        dict(session.authentication or {}),
        jti=jti,
        rot=int(session.rot or 0),
        now=now,
        access_seconds=settings.accessTokenDuration,
        session_expires_at=int(session.expiresAt),
    )


def issue_first_refresh(
    session: SessionItem, user: UserItem, settings: TenantSettings, now: int
) -> token_claims.IssuedTokens:
    """Tokens for a session opened without any (PKCE): succeeds once per session."""
    jti = str(uuid.uuid4())
    if not store.set_first_refresh(session, jti_digest(jti), now_iso()):
        raise Unauthorized(INVALID_TOKEN)
    return sign(session, user, settings, now, jti)


# ------------------------------------------------------------------------- verification


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


def token_user(claims: dict[str, Any]) -> UserItem | None:
    """The stored user behind a signature-checked access token, or None when the token
    no longer counts: its session ended or expired, the user is gone or locked, or the
    password changed after the session last proved it. Every token-authenticated route
    goes through this rule (the server API via `callers.authenticate`, the client API
    via `authenticate`), so rights always come from the stored user. One
    TransactGetItems call."""
    session_id, user_id = claims.get("sessionId"), claims.get("userId")
    if not isinstance(session_id, str) or not session_id or not isinstance(user_id, int):
        return None
    snapshot = snapshots.read_snapshot(
        session_id,
        str(claims.get("mode")),
        str(claims.get("tenantId")),
        user_id,
        with_tenant=False,
        with_settings=False,
    )
    user, session = snapshot.user, snapshot.session
    if session is None or not is_live(session, claims) or user is None or user.locked:
        return None
    if _password_changed_since(user, session):
        return None
    return user


def is_active_for_token(claims: dict[str, Any]) -> bool:
    return token_user(claims) is not None


def _presented(authorization: str | None, watch: authfailures.Watch) -> str:
    """The bearer credential (401 `Missing authentication` without one); an address
    over the failure limit is refused before it is looked up (issue 8 item 9)."""
    token = bearer(authorization)
    watch.presented()
    return token


def _claims(token: str, *, verify_exp: bool) -> dict[str, Any]:
    """Signature-checked claims of one of our user tokens, with the fields we rely on."""
    claims = tokens.verify(token, verify_exp=verify_exp).claims
    if not isinstance(claims.get("sessionId"), str) or not isinstance(claims.get("userId"), int):
        raise Unauthorized()
    return claims


@dataclass
class TokenCaller:
    """A request authenticated by a user's access token, with what it read in the same call."""

    claims: dict[str, Any]
    session: SessionItem
    user: UserItem | None
    tenant: TenantItem | None
    settings: TenantSettings

    @property
    def mode(self) -> str:
        return str(self.claims["mode"])

    @property
    def tenant_id(self) -> str:
        return str(self.claims["tenantId"])

    @property
    def session_id(self) -> str:
        return self.session.sessionId

    def request(self, *, origin: str | None, ip: str, user_agent: str | None) -> Request:
        """The request as a tenant-scoped one, in the token's tenant and mode (the origin
        never decides the mode of a token-authenticated call, api-client §0.6)."""
        assert self.tenant is not None, "authenticate(with_user=True) reads the tenant"
        return Request(
            tenant_id=self.tenant_id,
            mode=self.mode,
            tenant=self.tenant,
            settings=self.settings,
            origin=origin,
            ip=ip,
            user_agent=(user_agent or "")[:MAX_USER_AGENT] or None,
            link_base=modes.token_link_origin(self.mode, self.tenant_id, origin),
        )

    def require_tenant(self, tenant_id: str | None) -> None:
        """A tenant path must name the token's own tenant (api-client §9: 403)."""
        if tenant_id is not None and tenant_id != self.tenant_id:
            raise Forbidden()


def authenticate(
    authorization: str | None, ip: str, *, with_user: bool = True, counted: bool = True
) -> TokenCaller:
    """Access-token endpoints (api-client §9): signature, `exp`, not a refresh token, a
    live session and (optionally) the user, tenant and settings, in one DynamoDB call.

    401 `Missing authentication` without a header, 401 `Unauthorized` for anything
    else that is wrong (counted per IP: 429 past `authFailuresPerIp`), 403 `User is
    locked` for a locked user. The request counts in `requestsPerIp` unless `counted`
    is False (a flow that counts its own per-IP limit, e.g. verify email).
    """
    with authfailures.Watch(ip) as watch:
        claims = _claims(_presented(authorization, watch), verify_exp=True)
        # Only access tokens carry `authorization`: refresh and ID tokens are refused here.
        if claims.get("type") == "refresh" or not isinstance(claims.get("authorization"), dict):
            raise Unauthorized()
        mode, tenant_id = str(claims["mode"]), str(claims["tenantId"])
        snapshot = snapshots.read_snapshot(
            claims["sessionId"],
            mode,
            tenant_id,
            int(claims["userId"]),  # always: the password-changed rule needs the user
            with_tenant=with_user,
        )
        watch.settings(snapshot.settings)
        if snapshot.session is None or not is_live(snapshot.session, claims):
            raise Unauthorized()
        if snapshot.user is None or (with_user and snapshot.tenant is None):
            raise Unauthorized()
        if _password_changed_since(snapshot.user, snapshot.session):
            # Normally ended by the change already; this holds even if ending it failed.
            raise Unauthorized()
    if snapshot.user is not None and snapshot.user.locked:
        raise Forbidden(USER_LOCKED)
    assert snapshot.session is not None
    settings = _settings(snapshot, mode, tenant_id)
    if counted:
        perip.count_request(mode, tenant_id, ip, settings.rateLimits)
    return TokenCaller(claims, snapshot.session, snapshot.user, snapshot.tenant, settings)


def _settings(snapshot: snapshots.Snapshot, mode: str, tenant_id: str) -> TenantSettings:
    """Settings read with the session; passing them to the tenant cache keeps the
    sign-in endpoints of this instance warm for free."""
    if snapshot.tenant is not None:
        return remember(mode, snapshot.tenant, snapshot.settings).settings
    return settings_from(snapshot.settings, mode, tenant_id)


# ------------------------------------------------------------------------------ refresh


def _grace_key(refresh_token: str, session_id: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_GRACE_SALT, info=session_id.encode()
    ).derive(refresh_token.encode("utf-8"))


def seal_grace(refresh_token: str, session_id: str, body: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    plaintext = json.dumps(body, separators=(",", ":")).encode("utf-8")
    sealed = AESGCM(_grace_key(refresh_token, session_id)).encrypt(
        nonce, plaintext, session_id.encode()
    )
    return base64.b64encode(nonce + sealed).decode("ascii")


def open_grace(refresh_token: str, session_id: str, blob: str | None) -> dict[str, Any] | None:
    if not blob:
        return None
    try:
        raw = base64.b64decode(blob)
        plain = AESGCM(_grace_key(refresh_token, session_id)).decrypt(
            raw[:12], raw[12:], session_id.encode()
        )
    except (ValueError, InvalidTag):
        return None
    return dict(json.loads(plain))


def _in_grace(session: SessionItem, presented: str, now: int) -> bool:
    return (
        session.prevJtiDigest == presented
        and session.rotatedAt is not None
        and now - int(session.rotatedAt) <= GRACE_SECONDS
    )


def _invalid() -> Unauthorized:
    return Unauthorized(INVALID_TOKEN)


def _later(first: str, second: str) -> bool:
    """`first > second` for ISO timestamps; ours all share one fixed-width UTC form, so
    they compare as text (parsing is the slowest step of a refresh otherwise)."""
    if len(first) == len(second) == _ISO_LENGTH and first[-1] == second[-1] == "Z":
        return first > second
    return parse_iso(first) > parse_iso(second)


def _password_changed_since(user: UserItem, session: SessionItem) -> bool:
    if not user.passwordChangedAt:
        return False
    return _later(user.passwordChangedAt, session.authenticatedAt)


def refresh(authorization: str | None, ip: str) -> dict[str, Any]:
    """`GET /v0/auth/refresh` (api-client §13): two DynamoDB calls on the normal path —
    one read of session + user + settings, one conditional update of the session.
    Every 401 counts against `authFailuresPerIp` (429 past it); `refreshPerSession`,
    not `requestsPerIp`, limits the successful ones."""
    with authfailures.Watch(ip) as watch:
        return _refresh(authorization, ip, watch)


def _refresh(authorization: str | None, ip: str, watch: authfailures.Watch) -> dict[str, Any]:
    token = _presented(authorization, watch)
    try:
        claims = _claims(token, verify_exp=True)
    except Unauthorized:
        raise _invalid() from None
    jti = claims.get("jti")
    if claims.get("type") != "refresh" or not isinstance(jti, str):
        raise _invalid()
    mode, tenant_id, session_id = str(claims["mode"]), str(claims["tenantId"]), claims["sessionId"]
    snapshot = snapshots.read_snapshot(session_id, mode, tenant_id, int(claims["userId"]))
    watch.settings(snapshot.settings)
    session, user = snapshot.session, snapshot.user
    now = int(time.time())
    if session is None or not is_live(session, claims, now):
        raise _invalid()
    presented = jti_digest(jti)
    if session.jtiDigest != presented:
        if _in_grace(session, presented, now):
            body = open_grace(token, session_id, session.grace)
            if body is not None:
                return body
        _end_for_reuse(session)
        raise _invalid()
    if user is None or user.locked or user.userUuid != claims.get("userUuid"):
        raise _invalid()
    if _password_changed_since(user, session):
        end(session, "password_change")
        raise _invalid()
    settings = _settings(snapshot, mode, tenant_id)
    window, count = _count_refresh(session, settings, now)
    issued = token_claims.sign_set(
        user,
        session_id,
        dict(session.authentication or {}),
        jti=str(uuid.uuid4()),
        rot=int(session.rot or 0) + 1,
        now=now,
        access_seconds=settings.accessTokenDuration,
        session_expires_at=int(session.expiresAt),
    )
    body = {"message": "OK", "mode": mode, "sessionId": session_id, "tokens": issued.as_json()}
    rotated = store.rotate(
        session,
        expected_jti_digest=presented,
        jti_digest=jti_digest(issued.refresh_jti),
        rot=int(session.rot or 0) + 1,
        rotated_at=now,
        grace=seal_grace(token, session_id, body),
        last_active_at=now_iso(),
        last_ip=ip,
        refresh_window=window,
        refresh_count=count,
    )
    if rotated:
        return body
    # Another tab rotated this very token a moment ago (or the session just ended).
    fresh = store.get(session_id)
    if fresh is not None and is_live(fresh, claims, now) and _in_grace(fresh, presented, now):
        earlier = open_grace(token, session_id, fresh.grace)
        if earlier is not None:
            return earlier
    raise _invalid()


def _count_refresh(session: SessionItem, settings: TenantSettings, now: int) -> tuple[int, int]:
    """The per-session refresh limit lives on the session item itself: no extra call."""
    limit = settings.rateLimits.refreshPerSession
    window = now // limit.windowSeconds * limit.windowSeconds
    count = int(session.refreshCount or 0) + 1 if session.refreshWindow == window else 1
    if count > limit.limit:
        raise TooManyRequests(
            CLIENT_RATE_LIMITED,
            retry_after=window + limit.windowSeconds - now,
        )
    return window, count


def _end_for_reuse(session: SessionItem) -> None:
    if end(session, "refresh_reuse"):
        log.warning(
            "refresh token reuse: session revoked",
            extra={
                "sessionId": session.sessionId,
                "tenantId": session.tenantId,
                "mode": session.mode,
                "userId": int(session.userId),
            },
        )


# ---------------------------------------------------------------------------- revocation


def end(session: SessionItem, reason: str) -> bool:
    return end_by_id(session.sessionId, session.mode, session.tenantId, int(session.userId), reason)


def end_by_id(session_id: str, mode: str, tenant_id: str, user_id: int, reason: str) -> bool:
    """End one session of this owner; False when it is unknown, someone else's or ended."""
    return store.end(
        session_id,
        mode=mode,
        tenant_id=tenant_id,
        user_id=user_id,
        ended_at=now_iso(),
        reason=reason,
    )


def _active(items: Iterable[SessionItem], now: int) -> list[SessionItem]:
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
        if item.sessionId == except_session or not _active([item], now):
            continue
        if end(item, reason):
            ended.append(item.sessionId)
    return ended


def _token_for_logout(
    authorization: str | None, watch: authfailures.Watch, *, verify_exp: bool
) -> dict[str, Any]:
    """Access or refresh token; log out accepts an expired one (api-client §10.1)."""
    return _claims(_presented(authorization, watch), verify_exp=verify_exp)


def _counted_settings(mode: str, tenant_id: str, ip: str) -> TenantSettings:
    """The tenant's (cached) settings, after counting the request in `requestsPerIp`."""
    state = tenant_state(mode, tenant_id)
    settings = state.settings if state else TenantSettings()
    perip.count_request(mode, tenant_id, ip, settings.rateLimits)
    return settings


def logout(authorization: str | None, ip: str) -> dict[str, Any]:
    """End the token's session. Idempotent: an already ended session is still 200."""
    with authfailures.Watch(ip) as watch:
        claims = _token_for_logout(authorization, watch, verify_exp=False)
    mode, tenant_id = str(claims["mode"]), str(claims["tenantId"])
    settings = _counted_settings(mode, tenant_id, ip)
    end_by_id(claims["sessionId"], mode, tenant_id, claims["userId"], "logout")
    return {"message": "OK", "redirectTo": settings.logoutRedirectPath}


def logout_all(authorization: str | None, ip: str) -> dict[str, Any]:
    """End every session of the token's user. The token must be unexpired and its own
    session still live, so an old leaked token cannot log the user out everywhere."""
    with authfailures.Watch(ip) as watch:
        claims = _token_for_logout(authorization, watch, verify_exp=True)
        if not is_active_for_token(claims):
            raise Unauthorized()
    mode, tenant_id = str(claims["mode"]), str(claims["tenantId"])
    settings = _counted_settings(mode, tenant_id, ip)
    ended = end_all(mode, tenant_id, claims["userId"], "logout_all")
    return {"message": "OK", "redirectTo": settings.logoutRedirectPath, "count": len(ended)}


# ------------------------------------------------------------------------------- reading


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
    chosen = _active(found, now) if active_only else [s for s in found if _recent(s, now)]
    return sorted(chosen, key=lambda s: (s.lastActiveAt, s.createdAt), reverse=True)


def _recent(item: SessionItem, now: int) -> bool:
    if not item.is_ended and int(item.expiresAt) > now:
        return True
    ended = int(parse_iso(item.endedAt).timestamp()) if item.endedAt else int(item.expiresAt)
    return now - min(ended, int(item.expiresAt)) <= ENDED_VISIBLE_SECONDS
