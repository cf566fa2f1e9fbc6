"""Refresh rotation (concepts §2.5, README rule 1): each refresh issues a new refresh
token (`jti`, `rot + 1`) and makes its digest current. The token just replaced stays
usable for `GRACE_SECONDS` and then returns the very same new pair, so parallel tabs
that refresh together all end up with one pair. That pair is kept on the session
encrypted with AES-256-GCM under a key derived (HKDF) from the replaced refresh token
itself: only a holder of that token can read it, a table dump reveals nothing, and no
KMS call is needed on the hot path. Any other non-current token ends the session
(`refresh_reuse`): it can only be a copy an attacker kept."""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import uuid
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portcullis.platform.errors import (
    CLIENT_RATE_LIMITED,
    INVALID_TOKEN,
    TooManyRequests,
    Unauthorized,
)
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import authfailures
from portcullis.sessions.lifecycle import end, is_live, jti_digest, password_changed_since
from portcullis.sessions.tokenauth import (
    presented_credential,
    snapshot_settings,
    verified_claims,
)
from portcullis.store import sessions as store
from portcullis.store import snapshots
from portcullis.store.sessions import SessionItem
from portcullis.tenancy.settings import TenantSettings
from portcullis.tokens import claims as token_claims

log = logging.getLogger(__name__)


GRACE_SECONDS = 30


_GRACE_SALT = b"portcullis/refresh-grace/v1"


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


def refresh(authorization: str | None, ip: str) -> dict[str, Any]:
    """`GET /v0/auth/refresh` (api-client §13): two DynamoDB calls on the normal path —
    one read of session + user + settings, one conditional update of the session.
    Every 401 counts against `authFailuresPerIp` (429 past it); `refreshPerSession`,
    not `requestsPerIp`, limits the successful ones."""
    with authfailures.Watch(ip) as watch:
        return _refresh(authorization, ip, watch)


def _refresh(authorization: str | None, ip: str, watch: authfailures.Watch) -> dict[str, Any]:
    token = presented_credential(authorization, watch)
    try:
        claims = verified_claims(token, verify_exp=True)
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
    if password_changed_since(user, session):
        end(session, "password_change")
        raise _invalid()
    settings = snapshot_settings(snapshot, mode, tenant_id)
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
        access_format=settings.jwtFormat.format if settings.jwtFormat else None,
        tenant_name=snapshot.tenant.name if snapshot.tenant else None,
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
