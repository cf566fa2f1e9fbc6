"""Mode of a tenant-scoped public request, decided by the origin (api-client §0.6, §5)."""

from __future__ import annotations

from typing import Any

from portcullis import clientlimits
from portcullis.callers import TENANT_ID
from portcullis.domains import mode_from_origin
from portcullis.errors import NotFound
from portcullis.tenantstate import tenant_state


def request_mode(tenant_id: str, origin: str | None) -> str:
    """`live` needs an https origin on one of the tenant's live-mode live domains."""
    live = tenant_state("live", tenant_id)
    domains = [d.model_dump() for d in live.settings.liveDomains] if live else []
    return mode_from_origin(origin, domains)


def tenant_mode(tenant_id: str, origin: str | None, ip: str) -> dict[str, Any]:
    """Counted in `requestsPerIp` of the tenant and the mode the origin selects.

    Toolkit forms call this on every load: tenant and settings come from the
    instance's short cache, so a warm call reads nothing (but the batched counter)."""
    if not TENANT_ID.match(tenant_id):
        raise NotFound("Tenant not found")
    mode = request_mode(tenant_id, origin)
    state = tenant_state(mode, tenant_id)
    if state is None:
        raise NotFound("Tenant not found")
    clientlimits.count_request(mode, tenant_id, ip, state.settings.rateLimits)
    return {"mode": mode, "authentication": state.settings.authentication.model_dump(mode="json")}
