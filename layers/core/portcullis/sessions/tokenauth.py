"""Access tokens in, callers out: every token-authenticated route (the client API here,
the server API through `access.callers`) checks signature, `exp`, token kind, a live
session and the stored user in one DynamoDB call, so rights always come from stored
state. Log out and log out of all sessions, which take a token, live here too."""

from __future__ import annotations

from typing import Any, NamedTuple

from portcullis.platform.errors import (
    Forbidden,
    Unauthorized,
)
from portcullis.platform.identifiers import bearer
from portcullis.ratelimit import authfailures, perip
from portcullis.sessions.lifecycle import (
    end_all,
    end_by_id,
    is_live,
    password_changed_since,
)
from portcullis.store import snapshots
from portcullis.store.sessions import SessionItem
from portcullis.store.tenants import TenantItem
from portcullis.store.users import UserItem
from portcullis.tenancy.settings import TenantSettings
from portcullis.tenancy.state import remember, settings_from, tenant_state
from portcullis.tokens import signing as tokens

USER_LOCKED = "User is locked"


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
    if password_changed_since(user, session):
        return None
    return user


def is_active_for_token(claims: dict[str, Any]) -> bool:
    return token_user(claims) is not None


def presented_credential(authorization: str | None, watch: authfailures.Watch) -> str:
    """The bearer credential (401 `Missing authentication` without one); an address
    over the failure limit is refused before it is looked up (issue 8 item 9)."""
    token = bearer(authorization)
    watch.presented()
    return token


def verified_claims(token: str, *, verify_exp: bool) -> dict[str, Any]:
    """Signature-checked claims of one of our user tokens, with the fields we rely on."""
    claims = tokens.verify(token, verify_exp=verify_exp).claims
    if not isinstance(claims.get("sessionId"), str) or not isinstance(claims.get("userId"), int):
        raise Unauthorized()
    return claims


class SignedIn(NamedTuple):
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

    def require_tenant(self, tenant_id: str | None) -> None:
        """A tenant path must name the token's own tenant (api-client §9: 403)."""
        if tenant_id is not None and tenant_id != self.tenant_id:
            raise Forbidden()


def authenticate(
    authorization: str | None, ip: str, *, with_user: bool = True, counted: bool = True
) -> SignedIn:
    """Access-token endpoints (api-client §9): signature, `exp`, not a refresh token, a
    live session and (optionally) the user, tenant and settings, in one DynamoDB call.

    401 `Missing authentication` without a header, 401 `Unauthorized` for anything
    else that is wrong (counted per IP: 429 past `authFailuresPerIp`), 403 `User is
    locked` for a locked user. The request counts in `requestsPerIp` unless `counted`
    is False (a flow that counts its own per-IP limit, e.g. verify email).
    """
    with authfailures.Watch(ip) as watch:
        claims = verified_claims(presented_credential(authorization, watch), verify_exp=True)
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
        if password_changed_since(snapshot.user, snapshot.session):
            # Normally ended by the change already; this holds even if ending it failed.
            raise Unauthorized()
    if snapshot.user is not None and snapshot.user.locked:
        raise Forbidden(USER_LOCKED)
    assert snapshot.session is not None
    settings = snapshot_settings(snapshot, mode, tenant_id)
    if counted:
        perip.count_request(mode, tenant_id, ip, settings.rateLimits)
    return SignedIn(claims, snapshot.session, snapshot.user, snapshot.tenant, settings)


def snapshot_settings(snapshot: snapshots.Snapshot, mode: str, tenant_id: str) -> TenantSettings:
    """Settings read with the session; passing them to the tenant cache keeps the
    sign-in endpoints of this instance warm for free."""
    if snapshot.tenant is not None:
        return remember(mode, snapshot.tenant, snapshot.settings).settings
    return settings_from(snapshot.settings, mode, tenant_id)


def _token_for_logout(
    authorization: str | None, watch: authfailures.Watch, *, verify_exp: bool
) -> dict[str, Any]:
    """Access or refresh token; log out accepts an expired one (api-client §10.1)."""
    return verified_claims(presented_credential(authorization, watch), verify_exp=verify_exp)


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
