"""The browser dance (api-client §12, concepts §9.1).

1. `receive`: the SP's request arrives at the SSO/SLO URL; checked (`protocol`), kept
   as a pending request for 10 minutes whose id travels in the `uf_saml.{tenantId}`
   cookie, and the browser goes to the tenant's after-logout path (its login page) on
   its primary live domain.
2. `issue_token`: the signed-in page trades its live-mode access token for a single-use
   SAML token (2 minutes) bound to tenant, user and session.
3. `complete`: `…/idp/login|logout?tenant_id&token&uuid` takes the token (one
   conditional delete: used at most once; a wrong `uuid` leaves it for its owner),
   re-checks the session and user, takes the pending request and answers the form that
   posts the signed Response / LogoutResponse to the SP.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PortcullisError,
    Unauthorized,
)
from portcullis.platform.identifiers import TENANT_ID, UUID
from portcullis.ratelimit import authfailures, perip
from portcullis.saml import idp, keys, sps
from portcullis.sessions.tokenauth import SignedIn, token_user
from portcullis.store import saml as store
from portcullis.store.transactions import WriteConflict
from portcullis.tenancy.state import tenant_state

TOKEN_SECONDS = 120
PENDING_SECONDS = 600
SEEN_SECONDS = 900  # longer than a request's accepted age (protocol.MAX_AGE + skew)
LIVE_ONLY = "SAML is only available in live mode"
NO_PENDING = "No pending SAML request"
COOKIE_PATH = "/v0/auth/saml/idp"
PENDING_ID_LENGTH = 43


def cookie_name(tenant_id: str) -> str:
    return f"uf_saml.{tenant_id}"


@dataclass(frozen=True)
class Redirect:
    location: str
    cookie: str


def _tenant(tenant_id: str) -> None:
    """A live tenant, else 400 (§12.2 answers 400/401 only; a missing one is bad input)."""
    if not TENANT_ID.match(tenant_id or ""):
        raise BadRequest('"tenant_id" is invalid')
    try:
        keys.live_tenant(tenant_id)
    except NotFound:
        raise BadRequest('"tenant_id" is invalid') from None


def _login_page(tenant_id: str) -> str:
    """The after-logout path on the tenant's (else its workspace's) primary live domain."""
    state = tenant_state(store.MODE, tenant_id)
    if state is None:
        raise BadRequest('"tenant_id" is invalid')
    domains = state.settings.liveDomains
    if not domains:
        workspace = tenant_state(store.MODE, keys.workspace_of(state.tenant))
        domains = workspace.settings.liveDomains if workspace else []
    if not domains:
        raise BadRequest("The tenant has no live domain for its login page")
    return f"https://{domains[0].domain}{state.settings.logoutRedirectPath}"


def _count(tenant_id: str, ip: str) -> None:
    """Every SP-facing and login request counts in the tenant's `requestsPerIp` (429)."""
    state = tenant_state(store.MODE, tenant_id)
    if state is not None:
        perip.count_request(store.MODE, tenant_id, ip, state.settings.rateLimits)


def receive(tenant_id: str, kind: str, binding: str, params: dict[str, str], ip: str) -> Redirect:
    _tenant(tenant_id)
    _count(tenant_id, ip)

    def lookup(entity_id: str) -> tuple[str, sps.SpFields] | None:
        sp_id = store.sp_id_for_entity(tenant_id, sps.entity_digest(entity_id))
        fields = sps.with_id(tenant_id, sp_id) if sp_id else None
        return (sp_id, fields) if sp_id and fields and fields.isActive else None

    # Imported here and in `complete`: the XML stack (lxml, xmlsec, python3-saml) serves
    # only the SP-facing requests, not the admin routes or the token hand-off.
    from portcullis.saml import protocol

    incoming, sp_id, _ = protocol.read_request(
        params,
        binding=binding,
        kind=kind,
        destinations=idp.destinations(tenant_id, kind),
        lookup=lookup,
    )
    relay = params.get("RelayState")
    if relay is not None and len(relay) > 1024:
        raise BadRequest('"RelayState" is too long')
    pending_id = secrets.token_urlsafe(32)
    at = int(time.time())
    item = store.new_pending_item(
        pending_id,
        tenantId=tenant_id,
        spId=sp_id,
        kind=kind,
        requestId=incoming.request_id,
        relayState=relay,
        nameId=incoming.name_id,
        expiresAt=at + PENDING_SECONDS,
    )
    seen = hashlib.sha256(f"{tenant_id}|{incoming.issuer}|{incoming.request_id}".encode())
    try:
        store.save_pending(item, seen.hexdigest(), at + SEEN_SECONDS)
    except WriteConflict:
        raise BadRequest("This SAML request was already received") from None
    cookie = (
        f"{cookie_name(tenant_id)}={pending_id}; Path={COOKIE_PATH}; Max-Age={PENDING_SECONDS}; "
        "HttpOnly; Secure; SameSite=Lax"
    )
    return Redirect(_login_page(tenant_id), cookie)


def issue_token(caller: SignedIn) -> dict[str, Any]:
    if caller.mode != store.MODE:
        raise Forbidden(LIVE_ONLY)
    user = caller.user
    assert user is not None
    token = str(uuid.uuid4())
    store.put_token(
        secret_digest(token),
        tenantId=caller.tenant_id,
        userId=int(user.userId),
        userUuid=str(user.userUuid),
        sessionId=caller.session_id,
        expiresAt=int(time.time()) + TOKEN_SECONDS,
    )
    return {"token": token}


@dataclass(frozen=True)
class Form:
    action: str
    fields: dict[str, str]
    clear_cookie: str


def _pending(tenant_id: str, kind: str, pending_id: str | None) -> store.SamlPendingItem | None:
    if not pending_id or len(pending_id) != PENDING_ID_LENGTH:
        return None
    item = store.get_pending(pending_id)
    if (
        item is None
        or item.tenantId != tenant_id
        or item.kind != kind
        or int(item.expiresAt) <= time.time()
    ):
        return None
    return item


def complete(kind: str, query: dict[str, str], pending_id: str | None, ip: str) -> Form:
    """§12.2 / §12.3: token + uuid → the form posting our answer to the SP."""
    tenant_id, token, user_uuid = (query.get(k) for k in ("tenant_id", "token", "uuid"))
    if not tenant_id or not token or not user_uuid:
        raise BadRequest('"tenant_id", "token" and "uuid" are required')
    _tenant(tenant_id)
    _count(tenant_id, ip)
    if not UUID.match(token) or not UUID.match(user_uuid):
        raise Unauthorized(INVALID)
    pending = _pending(tenant_id, kind, pending_id)
    # The SP is settled before the token is taken: a refusal here consumes nothing.
    if pending is not None:
        fields = sps.with_id(tenant_id, pending.spId)
        if fields is None or not fields.isActive:
            raise BadRequest("The service provider is no longer registered")
        target: tuple[str, sps.SpFields] | None = (pending.spId, fields)
    else:
        target = sps.idp_initiated_target(tenant_id) if kind == "login" else None
        if target is None:
            raise BadRequest(NO_PENDING)
    with authfailures.Watch(ip) as watch:
        watch.presented()
        taken = store.take_token(
            secret_digest(token.lower()),
            tenant_id=tenant_id,
            user_uuid=user_uuid.lower(),
            now=int(time.time()),
        )
        if taken is None:
            raise Unauthorized(INVALID)
        claims = {
            "sessionId": taken.sessionId,
            "userId": int(taken.userId),
            "mode": store.MODE,
            "tenantId": tenant_id,
        }
        user = token_user(claims)  # the session is still live, the user not locked
        if user is None:
            raise Unauthorized(INVALID)
    if pending is not None:
        assert pending_id is not None
        pending = store.take_pending(
            pending_id, tenant_id=tenant_id, kind=kind, now=int(time.time())
        )
        if pending is None:  # another tab answered it meanwhile
            raise BadRequest(NO_PENDING)
    assert target is not None
    sp = target[1]
    key = keys.signing_key(keys.workspace_of(keys.live_tenant(tenant_id)))
    clear = (
        f"{cookie_name(tenant_id)}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
    )
    relay = {"RelayState": pending.relayState} if pending is not None and pending.relayState else {}
    facts = {
        "email": user.email,
        "name": user.name,
        "username": user.username,
        "userUuid": user.userUuid,
        "userId": int(user.userId),
        "tenantId": tenant_id,
        "phoneNumber": user.phoneNumber,
        "roles": list((user.roles or {}).get(tenant_id, [])),
    }
    from portcullis.saml import protocol  # the XML stack, as in `receive`

    if kind == "login":
        document = protocol.build_response(
            issuer=idp.entity_id(tenant_id),
            sp=sp,
            user=facts,
            session_id=taken.sessionId,
            in_response_to=pending.requestId if pending is not None else None,
            key=key,
        )
        return Form(sp.acsUrl, {"SAMLResponse": _b64(document), **relay}, clear)
    # An SP's logout request names whom it logs out: only that user answers it.
    assert pending is not None
    if pending.nameId is not None and pending.nameId != protocol.name_id_value(sp, facts):
        raise BadRequest("The SAML logout request is for another user")
    document = protocol.build_logout_response(
        issuer=idp.entity_id(tenant_id),
        sp=sp,
        in_response_to=pending.requestId if pending is not None else None,
        key=key,
    )
    return Form(str(sp.logoutUrl), {"SAMLResponse": _b64(document), **relay}, clear)


INVALID = "Invalid token"


def _b64(document: str) -> str:
    import base64

    return base64.b64encode(document.encode()).decode()


def form_page(form: Form) -> str:
    """Auto-submitting form; every value escaped (RelayState comes from the SP)."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in form.fields.items()
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signing in…</title></head>'
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{html.escape(form.action)}">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form></body></html>'
    )


def error_page(error: PortcullisError) -> str:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>SAML error</title></head>'
        f"<body><h1>SAML sign-in failed</h1><p>{html.escape(error.message)}</p></body></html>"
    )
