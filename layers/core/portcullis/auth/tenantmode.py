"""What `GET /v0/tenants/{tenantId}/mode` answers (api-client §5): the mode the page's
origin selects and the sign-in factors the tenant enables in it."""

from __future__ import annotations

import threading
import time
from typing import Any

from cachetools import TTLCache

from portcullis.platform.errors import NotFound
from portcullis.platform.identifiers import TENANT_ID
from portcullis.ratelimit import perip
from portcullis.store import sso as sso_store
from portcullis.tenancy.modes import request_mode
from portcullis.tenancy.state import CACHE_SECONDS, MAX_CACHED_TENANTS, tenant_state

# The SSO providers a tenant lists (docs/sso.md), cached like the tenant state itself, so
# a warm `/mode` still reads nothing: a change shows within the same few seconds.
_sso_names: TTLCache[tuple[str, str], list[str]] = TTLCache(
    maxsize=MAX_CACHED_TENANTS, ttl=CACHE_SECONDS, timer=time.monotonic
)
_sso_lock = threading.Lock()


def _sso_first_factors(mode: str, tenant_id: str) -> list[dict[str, str]]:
    with _sso_lock:
        names = _sso_names.get((mode, tenant_id))
    if names is None:
        names = sso_store.enabled_names(mode, tenant_id)
        with _sso_lock:
            _sso_names[(mode, tenant_id)] = names
    return [{"channel": "email", "strategy": name} for name in names]


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
    authentication["firstFactors"] += _sso_first_factors(mode, tenant_id)
    return {"mode": mode, "authentication": authentication}
