"""Token payloads (concepts §2.3–2.5, api-client §1.3) and the tokens object (§1.1).

The access token carries authorization, the ID token the user's own profile, the
refresh token only what the client needs to decide whether to refresh (`exp`) plus
`jti`/`rot` for rotation. Every token names its session, so every endpoint can refuse
tokens of an ended session.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from portcullis.platform import config
from portcullis.store.users import UserItem
from portcullis.tenancy import state as tenant_state
from portcullis.tokens import format as jwtformat
from portcullis.tokens import signing as tokens

log = logging.getLogger(__name__)

# Browsers silently drop cookies above ~4 KB; the ID token embeds `data` (api-client §1.3).
MAX_ID_TOKEN_BYTES = 3500
# An access token shaped by a custom format never exceeds this (concepts §2.3 "Size").
MAX_ACCESS_TOKEN_BYTES = 3800
_SIGNATURE_CHARS = 342  # base64url of a 2048-bit RSA signature
_HEADER_CHARS = len(
    base64.urlsafe_b64encode(
        json.dumps(
            {"alg": "RS256", "kid": "00000000-0000-0000-0000-000000000000", "typ": "JWT"},
            separators=(",", ":"),
        ).encode()
    ).rstrip(b"=")
)


def confirmation_claims(user: UserItem) -> dict[str, Any]:
    confirmed = bool(user.isEmailConfirmed)
    return {
        "isEmailConfirmed": confirmed,
        "isPhoneNumberConfirmed": bool(user.isPhoneNumberConfirmed),
        "isConfirmed": confirmed,
    }


def _owner(user: UserItem, session_id: str) -> dict[str, Any]:
    return {
        "mode": user.mode,
        "tenantId": user.tenantId,
        "userId": int(user.userId),
        "userUuid": user.userUuid,
        **confirmation_claims(user),
        "sessionId": session_id,
    }


def authorization(user: UserItem) -> dict[str, dict[str, list[str]]]:
    """Roles by tenant; the user's own tenant is always present so `hasRole` can read it."""
    granted = {str(t): list(r) for t, r in (user.roles or {}).items() if r}
    granted.setdefault(user.tenantId, [])
    return {tenant_id: {"roles": roles} for tenant_id, roles in sorted(granted.items())}


def access_claims(
    user: UserItem, session_id: str, factors: dict[str, Any], iat: int, exp: int
) -> dict[str, Any]:
    return {
        **_owner(user, session_id),
        "authorization": authorization(user),
        "authentication": factors,
        "iss": config.issuer(),
        "iat": iat,
        "exp": exp,
    }


def id_claims(user: UserItem, session_id: str, iat: int, exp: int) -> dict[str, Any]:
    return {
        **_owner(user, session_id),
        "email": user.email,
        "phoneNumber": user.phoneNumber,
        "username": user.username,
        "name": user.name or "",
        "image": user.image,
        "data": user.data or {},
        "confirmedEmailAt": user.confirmedEmailAt,
        "confirmedAt": user.confirmedEmailAt,
        "confirmedPhoneNumberAt": user.confirmedPhoneNumberAt,
        "isMfaRequired": bool(user.isMfaRequired),
        "createdAt": user.createdAt,
        "updatedAt": user.updatedAt,
        "iss": config.issuer(),
        "iat": iat,
        "exp": exp,
    }


def refresh_claims(
    user: UserItem, session_id: str, jti: str, rot: int, iat: int, exp: int
) -> dict[str, Any]:
    return {
        "type": "refresh",
        **_owner(user, session_id),
        "jti": jti,
        "rot": rot,
        "iss": config.issuer(),
        "iat": iat,
        "exp": exp,
    }


def encoded_size(claims: Mapping[str, Any]) -> int:
    """Encoded size of a token carrying `claims`, without signing one."""
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return (
        _HEADER_CHARS
        + 1
        + len(base64.urlsafe_b64encode(payload).rstrip(b"="))
        + 1
        + _SIGNATURE_CHARS
    )


def id_token_size(user: UserItem) -> int:
    """Encoded size of this user's ID token, without signing one."""
    return encoded_size(
        id_claims(user, "00000000-0000-0000-0000-000000000000", 2_000_000_000, 2_000_000_000)
    )


# ----------------------------------------------------------------- custom JWT format


def claim_values(
    user: UserItem,
    session_id: str | None,
    factors: Mapping[str, Any],
    tenant_name: Callable[[], str | None],
    wanted: set[str],
) -> dict[str, Any]:
    """The values of the claim paths of `tokens.format` for this user and session;
    `tenant.name` is looked up only when the format uses it."""
    values: dict[str, Any] = {
        "mode": user.mode,
        "tenantId": user.tenantId,
        "userId": int(user.userId),
        "userUuid": user.userUuid,
        "email": user.email,
        "username": user.username,
        "name": user.name or "",
        "image": user.image,
        "phoneNumber": user.phoneNumber,
        **confirmation_claims(user),
        "isMfaRequired": bool(user.isMfaRequired),
        "confirmedEmailAt": user.confirmedEmailAt,
        "confirmedPhoneNumberAt": user.confirmedPhoneNumberAt,
        "authorization": authorization(user),
        "authentication": dict(factors),
        "sessionId": session_id,
        "createdAt": user.createdAt,
        "updatedAt": user.updatedAt,
        "data": user.data or {},
    }
    if "tenant.name" in wanted:
        values["tenant.name"] = tenant_name()
    return values


def _cached_tenant_name(user: UserItem) -> Callable[[], str | None]:
    """The user's tenant name from the per-instance tenant cache, for an issuer that did
    not pass the tenant it read (log-in, refresh and PKCE pass it: no extra call)."""

    def name() -> str | None:
        current = tenant_state.tenant_state(user.mode, user.tenantId)
        return current.tenant.name if current is not None else None

    return name


def formatted_access_claims(
    user: UserItem,
    session_id: str,
    factors: dict[str, Any],
    iat: int,
    exp: int,
    template: Mapping[str, Any] | None,
    *,
    tenant_name: Callable[[], str | None] | None = None,
) -> dict[str, Any]:
    """The access token's claims: the default ones, or those of the tenant's custom
    format with the reserved claims always present with their true values. A formatted
    token larger than `MAX_ACCESS_TOKEN_BYTES` falls back to the default claims (fail
    closed for the custom part, concepts §2.7) and logs a warning naming no user data."""
    default = access_claims(user, session_id, factors, iat, exp)
    if template is None:
        return default
    values = claim_values(
        user,
        session_id,
        factors,
        tenant_name or _cached_tenant_name(user),
        jwtformat.paths_in(template),
    )
    reserved = {name: default[name] for name in jwtformat.RESERVED}
    claims = {**jwtformat.render(template, values), **reserved}
    size = encoded_size(claims)
    if size > MAX_ACCESS_TOKEN_BYTES:
        log.warning(
            "Custom JWT format dropped: token too large",
            extra={"tenantId": user.tenantId, "mode": user.mode, "bytes": size},
        )
        return default
    return claims


def _days(seconds: int) -> float | int:
    """Cookie `expires` in days (js-cookie accepts fractions); whole days stay integers."""
    days = round(max(seconds, 0) / 86_400, 5)
    return int(days) if days == int(days) else days


def _cookie(mode: str, same_site: str, seconds: int) -> dict[str, Any]:
    return {"secure": mode == "live", "sameSite": same_site, "expires": _days(seconds)}


class IssuedTokens(NamedTuple):
    """A signed set for one session; `refresh_jti` is what the session remembers."""

    mode: str
    access: str
    id: str
    refresh: str
    refresh_jti: str
    access_seconds: int
    refresh_seconds: int

    def as_json(self) -> dict[str, Any]:
        return {
            "access": {
                "value": self.access,
                "cookieOptions": _cookie(self.mode, "Lax", self.access_seconds),
            },
            "id": {
                "value": self.id,
                "cookieOptions": _cookie(self.mode, "Lax", self.access_seconds),
            },
            "refresh": {
                "value": self.refresh,
                "cookieOptions": _cookie(self.mode, "Strict", self.refresh_seconds),
            },
        }


def sign_set(
    user: UserItem,
    session_id: str,
    factors: dict[str, Any],
    *,
    jti: str,
    rot: int,
    now: int,
    access_seconds: int,
    session_expires_at: int,
    access_format: Mapping[str, Any] | None = None,
    tenant_name: str | None = None,
) -> IssuedTokens:
    """Access and ID tokens live `access_seconds` (never past the session); the refresh
    token lives exactly as long as the session (an absolute lifetime, concepts §2.5).
    `access_format` (the tenant's custom JWT format) shapes the access token only;
    `tenant_name` is the user's tenant's, when the caller has just read it."""
    access_exp = min(now + access_seconds, session_expires_at)
    tenant_id, mode = user.tenantId, user.mode
    access = formatted_access_claims(
        user,
        session_id,
        factors,
        now,
        access_exp,
        access_format,
        tenant_name=None if tenant_name is None else (lambda: tenant_name),
    )
    return IssuedTokens(
        mode=mode,
        access=tokens.sign(tenant_id, mode, access),
        id=tokens.sign(tenant_id, mode, id_claims(user, session_id, now, access_exp)),
        refresh=tokens.sign(
            tenant_id,
            mode,
            refresh_claims(user, session_id, jti, rot, now, session_expires_at),
        ),
        refresh_jti=jti,
        access_seconds=access_exp - now,
        refresh_seconds=session_expires_at - now,
    )
