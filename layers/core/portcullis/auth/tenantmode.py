"""What `GET /v0/tenants/{tenantId}/mode` answers (api-client §5): the mode the page's
origin selects and the sign-in factors the tenant enables in it."""

from __future__ import annotations

from typing import Any

from portcullis.platform.errors import NotFound
from portcullis.platform.identifiers import TENANT_ID
from portcullis.ratelimit import perip
from portcullis.store import sso as sso_store
from portcullis.tenancy.modes import request_mode
from portcullis.tenancy.state import tenant_state


def tenant_mode(tenant_id: str, origin: str | None, ip: str) -> dict[str, Any]:
    """Counted in `requestsPerIp` of the tenant and the mode the origin selects.

    Toolkit forms call this on every load: tenant and settings come from the
    instance's short cache, so a warm call reads nothing (but the batched counter).
    An origin the strict reader refuses is answered as test mode, never an error."""
    if not TENANT_ID.match(tenant_id):
        raise NotFound("Tenant not found")
    mode = request_mode(tenant_id, origin, strict=False).mode
    state = tenant_state(mode, tenant_id)
    if state is None:
        raise NotFound("Tenant not found")
    perip.count_request(mode, tenant_id, ip, state.settings.rateLimits)
    authentication = state.settings.authentication.model_dump(mode="json")
    # SSO providers switched on with credentials in this mode are first factors too,
    # in the shape the client reads (`{channel: "email", strategy: "google"}`).
    authentication["firstFactors"] += [
        {"channel": "email", "strategy": name} for name in sso_store.enabled_names(mode, tenant_id)
    ]
    return {"mode": mode, "authentication": authentication}
