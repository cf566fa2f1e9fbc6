"""Webhooks (concepts §5, docs/webhooks.md): the workspace's webhook signing secret."""

import gc
from typing import Any

from portcullis.access import callers
from portcullis.access.callers import api_caller
from portcullis.platform.http import Response, create_app, handler, json_response
from portcullis.webhooks import secrets

app = create_app(credentials=api_caller)


def caller() -> callers.Caller:
    who: callers.Caller = api_caller(app)
    return who


@app.post("/v0/tenants/<tenantId>/webhooks/secret")
def rotate_secret(tenantId: str) -> Response[dict[str, Any]]:
    """Create or rotate the signing secret of the workspace in the caller's mode; the
    answer is the only time it is shown (so never cached)."""
    tenant = caller().tenant(tenantId, "admin")
    secret = secrets.rotate_for(tenant)
    return json_response({"secret": secret}, headers={"Cache-Control": "no-store"})


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
