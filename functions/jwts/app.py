"""Public JWT verification keys: PEM list and JWKS (api-server §12.1–12.2).

The mode comes only from the path or `?test=true` and defaults to live, never from the
Origin: servers verifying production tokens read these (spec README rule 5).
"""

import gc
from typing import Any

from portcullis.platform.bodies import query
from portcullis.platform.errors import NotFound
from portcullis.platform.http import Response, create_app, handler, json_response
from portcullis.search.envelope import list_envelope
from portcullis.tokens import jwks

app = create_app()

CACHE = {"Cache-Control": "public, max-age=300"}


def _query_mode() -> str:
    return "test" if query(app, "test") == "true" else "live"


@app.get("/v0/tenants/<tenantId>/keys/jwt")
def list_public_keys(tenantId: str) -> Response[dict[str, Any]]:
    body = list_envelope(jwks.public_keys(tenantId, _query_mode()), meta=False)
    return json_response(body, headers=CACHE)


@app.get("/v0/tenants/<tenantId>/jwks")
def read_jwks(tenantId: str) -> Response[dict[str, Any]]:
    return json_response(jwks.key_set(tenantId, _query_mode()), headers=CACHE)


@app.get("/v0/tenants/<tenantId>/jwks/<mode>")
def read_jwks_for_mode(tenantId: str, mode: str) -> Response[dict[str, Any]]:
    if mode not in ("live", "test"):
        raise NotFound("Not Found")
    return json_response(jwks.key_set(tenantId, mode), headers=CACHE)


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
