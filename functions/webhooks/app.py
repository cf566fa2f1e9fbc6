"""Webhooks: the signing secret and the delivery log of a tenant (docs/webhooks.md)."""

import gc
from typing import Any

from portcullis.access import callers
from portcullis.access.callers import api_caller
from portcullis.platform.errors import NotFound
from portcullis.platform.http import create_app, handler
from portcullis.webhooks import delivery
from portcullis.webhooks import secrets as webhook_secrets

app = create_app(credentials=api_caller)


def caller() -> callers.Caller:
    who: callers.Caller = api_caller(app)
    return who


# whconfig provides this: placeholder of the secret route until whconfig is merged.
@app.post("/v0/tenants/<tenantId>/webhooks/secret")
def rotate_secret(tenantId: str) -> dict[str, Any]:  # whconfig provides this
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    workspace = tenant.ancestors[-1] if tenant.ancestors else tenant.tenantId
    return {"secret": webhook_secrets.rotate(who.mode, workspace)}


# -- the delivery log (whdelivery) -----------------------------------------------------------


@app.get("/v0/tenants/<tenantId>/webhooks/deliveries")
def list_deliveries(tenantId: str) -> dict[str, Any]:
    """Deliveries to this tenant's URLs, newest first (filters: status, event, since)."""
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    params = app.current_event.query_string_parameters or {}
    return delivery.listing(who.mode, tenant.tenantId, params)


@app.post("/v0/tenants/<tenantId>/webhooks/deliveries/<webhookId>/redeliver")
def redeliver(tenantId: str, webhookId: str) -> dict[str, Any]:
    """Queue a succeeded or failed delivery again, with the same webhookId."""
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    item = delivery.redeliver(who.mode, tenant.tenantId, webhookId)
    if item is None:
        raise NotFound("Webhook delivery not found")
    return delivery.delivery_json(item)


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
