"""Public JWT verification keys: PEM list and JWKS (api-server §12.1–12.2), and custom
JWTs (§12.3–12.6: format, possible claims, minted tokens; API key or admin token).

The mode of the public key endpoints comes only from the path or `?test=true` and
defaults to live, never from the Origin: servers verifying production tokens read these
(spec README rule 5). The custom JWT endpoints take it from the credential.
"""

import gc
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from portcullis.access.callers import api_caller
from portcullis.platform.bodies import query
from portcullis.platform.errors import NotFound
from portcullis.platform.http import (
    Response,
    create_app,
    handler,
    header,
    json_response,
    source_ip,
)
from portcullis.search.envelope import list_envelope
from portcullis.tokens import jwks
from portcullis.users import customjwt
from portcullis.users.customjwt import FormatBody, MintBody


def _custom_jwt_credentials(resolver: APIGatewayRestResolver) -> None:
    """The custom JWT routes check the API credential before their body; the key
    endpoints are public."""
    if "/auth/jwt" in resolver.current_event.path:
        api_caller(resolver)


app = create_app(credentials=_custom_jwt_credentials)

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


# ------------------------------------------------- custom JWTs (api-server §12.3–12.6)


@app.post("/v0/tenants/<tenantId>/auth/jwt")
def create_custom_jwt(tenantId: str, body: MintBody) -> dict[str, Any]:
    tenant = api_caller(app).tenant(tenantId, "admin")
    return customjwt.mint(tenant, body, ip=source_ip(app), user_agent=header(app, "user-agent"))


@app.route("/v0/tenants/<tenantId>/auth/jwt/format", method=["PUT", "POST"])
def save_jwt_format(tenantId: str, body: FormatBody) -> dict[str, Any]:
    tenant = api_caller(app).tenant(tenantId, "admin")
    return customjwt.save_format(tenant, body.format)


@app.get("/v0/tenants/<tenantId>/auth/jwt/format")
def read_jwt_format(tenantId: str) -> dict[str, Any]:
    return customjwt.read_format(api_caller(app).tenant(tenantId, "read"))


@app.get("/v0/tenants/<tenantId>/auth/jwt/claims")
def read_jwt_claims(tenantId: str) -> dict[str, Any]:
    tenant = api_caller(app).tenant(tenantId, "read")
    return list_envelope(customjwt.possible_claims(tenant), meta=False)


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
