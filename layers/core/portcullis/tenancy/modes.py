"""Mode of a tenant-scoped public request, decided by the origin (api-client §0.6, §5),
and the origin its emailed links point at: one decision, so the two cannot disagree.

The origin is read by `origins.request_origin` only. Links never use the header as sent:
in live mode they go to the matched live domain (`domains.live_origin`), in test mode to
our serialisation of the validated origin, without one to the local default.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from portcullis.platform.errors import BadRequest
from portcullis.platform.origins import InvalidOrigin, Origin, request_origin
from portcullis.tenancy.domains import live_origin
from portcullis.tenancy.state import tenant_state

# Where links point when a test-mode request has no usable origin (the toolkit's dev server).
LOCAL_ORIGIN = "http://localhost:3000"
INVALID_ORIGIN = '"origin" must be an http(s) origin: scheme, host and optional port only'


class RequestMode(NamedTuple):
    """`mode` (`live` / `test`) and `link_origin`, where this request's links point."""

    mode: str
    link_origin: str


def read_origin(value: str | None, *, strict: bool) -> Origin | None:
    """The request's web origin; an unreadable one is 400 naming `origin` when `strict`
    (sign-in and sending requests), else treated as none (test mode)."""
    try:
        return request_origin(value)
    except InvalidOrigin:
        if strict:
            raise BadRequest(INVALID_ORIGIN) from None
        return None


def _live_domains(tenant_id: str) -> list[dict[str, Any]]:
    live = tenant_state("live", tenant_id)
    return [d.model_dump() for d in live.settings.liveDomains] if live else []


def request_mode(tenant_id: str, origin: str | None, *, strict: bool = True) -> RequestMode:
    """`live` needs a strict https origin on one of the tenant's live-mode live domains.

    An origin that can never be live (none, http, localhost, an IP) is decided without
    reading the tenant's settings.
    """
    parsed = read_origin(origin, strict=strict)
    if parsed is not None and parsed.scheme == "https" and not (parsed.is_ip or parsed.is_local):
        live = live_origin(parsed, _live_domains(tenant_id))
        if live is not None:
            return RequestMode("live", live.origin)
    return RequestMode("test", parsed.origin if parsed else LOCAL_ORIGIN)


def token_link_origin(mode: str, tenant_id: str, origin: str | None) -> str:
    """Where links of a token-authenticated request point: the token decides the mode
    (api-client §0.6), the origin only the host, and only when it is valid for that
    mode; a live request from elsewhere gets the tenant's first live domain."""
    parsed = read_origin(origin, strict=True)
    if mode == "test":
        return parsed.origin if parsed else LOCAL_ORIGIN
    domains = _live_domains(tenant_id)
    live = live_origin(parsed, domains)
    if live is not None:
        return live.origin
    return f"https://{domains[0]['domain']}" if domains else LOCAL_ORIGIN
