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


# --------------------------------------------- custom JWTs (api-server §12.3–12.6)
# docs/tokens.md "Custom JWTs". API key or admin token; the mode is the credential's.
# Each body is read after the credential check (api-server §4). The custom JWT core
# (with callers and sessions) is imported on its first request, so the public key
# routes above and below, which verifiers call, keep their short cold start.


@app.post("/v0/tenants/<tenantId>/auth/jwt")
def create_custom_jwt(tenantId: str) -> dict[str, Any]:
    from portcullis.access.callers import api_caller
    from portcullis.platform.bodies import json_body
    from portcullis.platform.http import header, source_ip
    from portcullis.users import customjwt

    tenant = api_caller(app).tenant(tenantId, "admin")
    body = customjwt.read_body(customjwt.MintBody, json_body(app))
    return customjwt.mint(
        tenant,
        body.payload,
        user_id=body.userId,
        user_uuid=body.userUuid,
        duration=body.options.duration if body.options else None,
        ip=source_ip(app),
        user_agent=header(app, "user-agent"),
    )


@app.route("/v0/tenants/<tenantId>/auth/jwt/format", method=["PUT", "POST"])
def save_jwt_format(tenantId: str) -> dict[str, Any]:
    from portcullis.access.callers import api_caller
    from portcullis.platform.bodies import json_body
    from portcullis.users import customjwt

    tenant = api_caller(app).tenant(tenantId, "admin")
    body = customjwt.read_body(customjwt.FormatBody, json_body(app))
    return customjwt.save_format(tenant, body.format)


@app.get("/v0/tenants/<tenantId>/auth/jwt/format")
def read_jwt_format(tenantId: str) -> dict[str, Any]:
    from portcullis.access.callers import api_caller
    from portcullis.users import customjwt

    return customjwt.read_format(api_caller(app).tenant(tenantId, "read"))


@app.get("/v0/tenants/<tenantId>/auth/jwt/claims")
def read_jwt_claims(tenantId: str) -> dict[str, Any]:
    from portcullis.access.callers import api_caller
    from portcullis.users import customjwt

    tenant = api_caller(app).tenant(tenantId, "read")
    return list_envelope(customjwt.possible_claims(tenant), meta=False)


# ------------------------------------------------------------- public key routes


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
