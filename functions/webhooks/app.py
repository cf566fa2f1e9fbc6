"""Webhooks (concepts §5, docs/webhooks.md): the workspace's webhook signing secret, and a
tenant's delivery log and redelivery."""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from portcullis.access import callers
from portcullis.access.apicaller import api_caller
from portcullis.platform.errors import NotFound
from portcullis.platform.http import Response, create_app, handler, json_response
from portcullis.webhooks import delivery, secrets
from portcullis.webhooks.responses import DELIVERIES, DELIVERY, SECRET

app = create_app(credentials=api_caller)


def caller() -> callers.Caller:
    who: callers.Caller = api_caller(app)
    return who


@app.post("/v0/tenants/<tenantId>/webhooks/secret", responses=SECRET)
def rotate_secret(tenantId: str) -> Response[dict[str, Any]]:
    """Create or rotate the signing secret of the workspace in the caller's mode; the
    answer is the only time it is shown (so never cached)."""
    tenant = caller().tenant(tenantId, "admin")
    secret = secrets.rotate_for(tenant)
    return json_response({"secret": secret}, headers={"Cache-Control": "no-store"})


# -- the delivery log of a tenant and redelivery (docs/webhooks.md "Delivery log and
# redelivery")


@app.get("/v0/tenants/<tenantId>/webhooks/deliveries", responses=DELIVERIES)
def list_deliveries(tenantId: str) -> dict[str, Any]:
    """Deliveries to this tenant's URLs, newest first (filters: status, event, since)."""
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    params = app.current_event.query_string_parameters or {}
    return delivery.listing(who.mode, tenant.tenantId, params)


@app.post("/v0/tenants/<tenantId>/webhooks/deliveries/<webhookId>/redeliver", responses=DELIVERY)
def redeliver(tenantId: str, webhookId: str) -> dict[str, Any]:
    """Queue a succeeded or failed delivery again, with the same webhookId."""
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    item = delivery.redeliver(who.mode, tenant.tenantId, webhookId)
    if item is None:
        raise NotFound("Webhook delivery not found")
    return delivery.delivery_json(item)


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
