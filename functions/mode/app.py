"""`GET /v0/tenants/{tenantId}/mode`: the page's mode and the tenant's sign-in factors."""

import gc
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

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
