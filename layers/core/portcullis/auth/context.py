"""Who is asking on a tenant-scoped public endpoint: tenant, mode, settings, client.

The mode comes from the origin (api-client §0.6): `x-origin`, else `Origin`, read by the
strict `origins` parser (an unreadable one is 400). Only an https origin can be live, so
every other request is decided without reading anything.

Tenant records and settings come from `portcullis.tenancy.state` (cached per Lambda
instance for a few seconds): a password log-in then costs its three essential DynamoDB
calls (user lookup, attempt counter, session transaction) instead of five.
Token-authenticated endpoints read settings fresh, in the same call as their session.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from portcullis.platform import origins
from portcullis.platform.errors import (
    CLIENT_RATE_LIMITED,
    INVALID_TOKEN,
    BadRequest,
    Forbidden,
    NotFound,
    Unauthorized,
)
from portcullis.platform.identifiers import TENANT_ID, bearer_credential
from portcullis.sessions.lifecycle import MAX_USER_AGENT
from portcullis.sessions.tokenauth import SignedIn
from portcullis.store.tenants import TenantItem
from portcullis.tenancy import modes
from portcullis.tenancy import settings as tenant_settings
from portcullis.tenancy.domains import live_origin
from portcullis.tenancy.modes import LOCAL_ORIGIN
from portcullis.tenancy.settings import TenantSettings
from portcullis.tenancy.state import tenant_state

RATE_LIMITED = CLIENT_RATE_LIMITED
FACTOR_DISABLED = "This sign-in method is not enabled"
# A first-factor token (api-client §11.6): `uf_{mode}_first_factor_{32 hex}`.
FIRST_FACTOR_TOKEN = re.compile(r"^uf_(live|test)_first_factor_[0-9a-f]{32}$")
# RFC 7636 S256: BASE64URL(SHA-256(verifier)) without padding is exactly 43 characters.
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def tenant_from(path_tenant: str | None, body_tenant: str | None) -> str:
    """The tenant of a current path (from the path) or a legacy path (from the body)."""
    if path_tenant is None:
        if not body_tenant:
            raise BadRequest("tenantId is required")
        return body_tenant
    if body_tenant is not None and body_tenant != path_tenant:
        raise BadRequest("tenantId does not match")
    return path_tenant


class Request(NamedTuple):
    """A tenant-scoped public request, resolved."""

    tenant_id: str
    mode: str
    tenant: TenantItem
    settings: TenantSettings
    origin: str | None
    ip: str
    user_agent: str | None
    code_challenge: str | None = None
    first_factor_token: str | None = None
    # The origin emailed links point at: the matched live domain (live), the validated
    # origin (test) or the local default; never the header as sent.
    link_base: str = LOCAL_ORIGIN

    @property
    def limits(self) -> tenant_settings.RateLimits:
        return self.settings.rateLimits

    @property
    def is_test(self) -> bool:
        return self.mode == "test"

    def require_first_factor(self, channel: str, strategy: str) -> None:
        """Refuse a sign-in method the tenant has not enabled in this mode (its
        `authentication.firstFactors`, what `/mode` publishes), before any lookup, so
        the refusal is the same for every identifier."""
        enabled = self.settings.authentication.firstFactors
        if not any(f.channel == channel and f.strategy == strategy for f in enabled):
            raise Forbidden(FACTOR_DISABLED)

    def redirect(self, value: str | None, field: str = "options.redirect") -> str | None:
        """A client's redirect target (`options.redirect`), or 400 naming `field`:
        a path on this site, or an absolute URL on a live domain (live mode) or on the
        request's own origin (test mode) (concepts §1.5, docs/auth.md)."""
        if value is None or value == "":
            return None
        problem = origins.redirect_problem(value, self._same_site)
        if problem:
            raise BadRequest(f'"{field}" {problem}')
        return value

    def _same_site(self, origin: origins.Origin) -> bool:
        if self.is_test:
            return origin.origin == self.link_base
        domains = [d.model_dump() for d in self.settings.liveDomains]
        return live_origin(origin, domains) is not None

    def link_origin(self) -> str:
        """Where links in emails point (api-client §6.2), decided with the mode
        (`modes.request_mode`): never the raw header."""
        return self.link_base


def _first_factor_token(value: str | None, mode: str) -> str | None:
    """A first-factor token the client still holds (api-client §11.6).

    Only something shaped like one is considered: a malformed one, or one of the other
    mode, is 401 `Invalid token`; a well-formed one that matches no pending sign-in is
    ignored, because the client keeps sending used tokens until the page reloads.
    """
    if value is None or not value.startswith(("uf_live_first_factor_", "uf_test_first_factor_")):
        return None
    match = FIRST_FACTOR_TOKEN.match(value)
    if match is None or match.group(1) != mode:
        raise Unauthorized(INVALID_TOKEN)
    return value


def load(
    tenant_id: str,
    *,
    origin: str | None,
    ip: str,
    user_agent: str | None,
    code_challenge: str | None = None,
    authorization: str | None = None,
) -> Request:
    if not isinstance(tenant_id, str) or not TENANT_ID.match(tenant_id):
        raise NotFound("Tenant not found")
    decided = modes.request_mode(tenant_id, origin)
    mode = decided.mode
    state = tenant_state(mode, tenant_id)
    if state is None:
        raise NotFound("Tenant not found")
    if code_challenge is not None and not CODE_CHALLENGE.match(code_challenge):
        raise BadRequest('"code_challenge" must be a base64url SHA-256 value (43 characters)')
    return Request(
        tenant_id=tenant_id,
        mode=mode,
        tenant=state.tenant,
        settings=state.settings,
        origin=origin,
        ip=ip,
        user_agent=(user_agent or "")[:MAX_USER_AGENT] or None,
        code_challenge=code_challenge,
        first_factor_token=_first_factor_token(bearer_credential(authorization), mode),
        link_base=decided.link_origin,
    )


def token_request(
    caller: SignedIn, *, origin: str | None, ip: str, user_agent: str | None
) -> Request:
    """An access-token request as a tenant-scoped one, in the token's tenant and mode (the
    origin never decides the mode of a token-authenticated call, api-client §0.6)."""
    assert caller.tenant is not None, "authenticate(with_user=True) reads the tenant"
    return Request(
        tenant_id=caller.tenant_id,
        mode=caller.mode,
        tenant=caller.tenant,
        settings=caller.settings,
        origin=origin,
        ip=ip,
        user_agent=(user_agent or "")[:MAX_USER_AGENT] or None,
        link_base=modes.token_link_origin(caller.mode, caller.tenant_id, origin),
    )
