"""`GET /v0/tenants/{tenantId}/mode`: the page's mode and the tenant's sign-in factors."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from portcullis import modes
from portcullis.http import create_app, handler, header, json_response

app = create_app()


@app.get("/v0/tenants/<tenantId>/mode")
def read_mode(tenantId: str) -> Response[dict[str, Any]]:
    origin = header(app, "x-origin") or header(app, "origin")
    body = modes.tenant_mode(tenantId, origin)
    return json_response(body, headers={"Cache-Control": "max-age=60"})


lambda_handler = handler(app)
