"""The PKCE exchange (api-client §7.11): authorization code + verifier → the tokens of
the session the sign-in opened, with the §1.4 body minus `redirectTo`.

The code, not the request's origin, says which mode the session is in: a native app
exchanging it has no web origin of its own.
"""

from __future__ import annotations

import time
from typing import Any

from portcullis.auth import completion
from portcullis.credentials import pkce
from portcullis.platform.errors import INVALID_TOKEN, Forbidden, NotFound, Unauthorized
from portcullis.platform.identifiers import TENANT_ID
from portcullis.ratelimit import authfailures, perip
from portcullis.sessions import lifecycle, tokenauth
from portcullis.store import snapshots
from portcullis.tenancy.state import remember


def exchange(tenant_id: str, *, code: Any, verifier: Any, ip: str) -> dict[str, Any]:
    """A wrong code or verifier counts against `authFailuresPerIp` (429 past it); a
    good one counts in `requestsPerIp` of the code's mode."""
    if not TENANT_ID.match(tenant_id):
        raise NotFound("Tenant not found")
    at = int(time.time())
    with authfailures.Watch(ip) as watch:
        watch.presented()  # over the limit: refused before the code is looked up
        item = pkce.redeem(tenant_id, code, verifier, at)
        snapshot = snapshots.read_snapshot(item.sessionId, item.mode, tenant_id, int(item.userId))
        watch.settings(snapshot.settings)
        session, user, tenant = snapshot.session, snapshot.user, snapshot.tenant
        if session is None or user is None or tenant is None or session.is_ended:
            raise Unauthorized(INVALID_TOKEN)
        if int(session.userId) != int(user.userId) or int(session.expiresAt) <= at:
            raise Unauthorized(INVALID_TOKEN)
    if user.locked:
        raise Forbidden(tokenauth.USER_LOCKED)
    settings = remember(item.mode, tenant, snapshot.settings).settings
    perip.count_request(item.mode, tenant_id, ip, settings.rateLimits)
    issued = lifecycle.issue_first_refresh(session, user, settings, at, tenant_name=tenant.name)
    return completion.signed_in(tenant, settings, user, session, issued, None)
