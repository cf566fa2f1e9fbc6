"""`GET /v0/tenants/{tenantId}/mode`: the page's mode and the tenant's sign-in factors."""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from portcullis.auth import tenantmode
from portcullis.auth.responses import MODE
from portcullis.platform.http import (
    Response,
    create_app,
    handler,
    header,
    json_response,
    source_ip,
)

app = create_app()


@app.get("/v0/tenants/<tenantId>/mode", responses=MODE)
def read_mode(tenantId: str) -> Response[dict[str, Any]]:
    origin = header(app, "x-origin") or header(app, "origin")
    body = tenantmode.tenant_mode(tenantId, origin, source_ip(app))
    return json_response(body, headers={"Cache-Control": "max-age=60"})


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
