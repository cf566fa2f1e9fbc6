"""Passthrough migration settings of a tenant (Portcullis extension, docs/auth.md
"Passthrough migration"; concepts §7.2, §7.3): read, change (merge) and remove, per
tenant and in the caller's mode, and its per-day counts. Admin of the tenant only;
secrets are never answered.
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from portcullis.access import callers
from portcullis.access.apicaller import api_caller
from portcullis.auth import passthroughconfig, passthroughmetrics
from portcullis.auth.responses import PASSTHROUGH, PASSTHROUGH_METRICS
from portcullis.platform.bodies import json_body, query
from portcullis.platform.http import create_app, handler

app = create_app(credentials=api_caller)


def _scope(tenant_id: str) -> tuple[str, str]:
    """(mode, tenant id) the caller administers; checked before the body is read, so a
    caller without access learns nothing from the answer."""
    who: callers.Caller = api_caller(app)
    return who.mode, who.tenant(tenant_id, "admin").tenantId


@app.get("/v0/tenants/<tenantId>/auth/passthrough", responses=PASSTHROUGH)
def read_passthrough(tenantId: str) -> dict[str, Any]:
    return passthroughconfig.describe(*_scope(tenantId))


@app.put("/v0/tenants/<tenantId>/auth/passthrough", responses=PASSTHROUGH)
def save_passthrough(tenantId: str) -> dict[str, Any]:
    mode, tenant_id = _scope(tenantId)  # before the body is read
    return passthroughconfig.save(mode, tenant_id, json_body(app))


@app.delete("/v0/tenants/<tenantId>/auth/passthrough", responses=PASSTHROUGH)
def remove_passthrough(tenantId: str) -> dict[str, Any]:
    return passthroughconfig.remove(*_scope(tenantId))


@app.get("/v0/tenants/<tenantId>/auth/passthrough/metrics", responses=PASSTHROUGH_METRICS)
def read_passthrough_metrics(tenantId: str) -> dict[str, Any]:
    """Per-day counts (concepts §7.2 "Metrics"), `?from=&to=` as UTC dates."""
    mode, tenant_id = _scope(tenantId)
    return passthroughmetrics.report(mode, tenant_id, query(app, "from"), query(app, "to"))


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
