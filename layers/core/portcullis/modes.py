"""Mode of a tenant-scoped public request, decided by the origin (api-client §0.6, §5)."""

from __future__ import annotations

from typing import Any

from portcullis import settings
from portcullis.callers import TENANT_ID
from portcullis.domains import mode_from_origin
from portcullis.errors import NotFound
from portcullis.store import tenants as tenant_store


def request_mode(tenant_id: str, origin: str | None) -> str:
    """`live` needs an https origin on one of the tenant's live-mode live domains."""
    live = settings.read("live", tenant_id)
    return mode_from_origin(origin, [d.model_dump() for d in live.liveDomains])


def tenant_mode(tenant_id: str, origin: str | None) -> dict[str, Any]:
    if not TENANT_ID.match(tenant_id):
        raise NotFound("Tenant not found")
    mode = request_mode(tenant_id, origin)
    if tenant_store.get_tenant(mode, tenant_id) is None:
        raise NotFound("Tenant not found")
    flow = settings.read(mode, tenant_id).authentication
    return {"mode": mode, "authentication": flow.model_dump(mode="json")}
