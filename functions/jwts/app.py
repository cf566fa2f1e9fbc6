"""Public JWT verification keys: PEM list and JWKS (api-server §12.1–12.2).

The mode comes only from the path or `?test=true` and defaults to live, never from the
Origin: servers verifying production tokens read these (spec README rule 5).
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from pydantic import BaseModel, ValidationError

from portcullis.platform.bodies import json_body, query
from portcullis.platform.errors import NotFound
from portcullis.platform.http import Response, create_app, handler, json_response
from portcullis.platform.identifiers import UUID
from portcullis.platform.models import STRICT
from portcullis.platform.validation import bad_request_from
from portcullis.search.envelope import list_envelope
from portcullis.tokens import jwks
from portcullis.tokens.responses import KEY_SET, PUBLIC_KEYS, ROTATED, WITHDRAWN
from portcullis.users.responses import JWT_CLAIMS, JWT_FORMAT, MINTED_JWT

app = create_app()

CACHE = {"Cache-Control": "public, max-age=300"}


def _query_mode() -> str:
    return "test" if query(app, "test") == "true" else "live"


# --------------------------------------------- custom JWTs (api-server §12.3–12.6)
# docs/tokens.md "Custom JWTs". API key or admin token; the mode is the credential's.
# Each body is read after the credential check (api-server §4). The custom JWT core
# (with callers and sessions) is imported on its first request, so the public key
# routes above and below, which verifiers call, keep their short cold start.


@app.post("/v0/tenants/<tenantId>/auth/jwt", responses=MINTED_JWT)
def create_custom_jwt(tenantId: str) -> dict[str, Any]:
    from portcullis.access.apicaller import api_caller
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


@app.route("/v0/tenants/<tenantId>/auth/jwt/format", ["PUT", "POST"], responses=JWT_FORMAT)
def save_jwt_format(tenantId: str) -> dict[str, Any]:
    from portcullis.access.apicaller import api_caller
    from portcullis.platform.bodies import json_body
    from portcullis.users import customjwt

    tenant = api_caller(app).tenant(tenantId, "admin")
    body = customjwt.read_body(customjwt.FormatBody, json_body(app))
    return customjwt.save_format(tenant, body.format)


@app.get("/v0/tenants/<tenantId>/auth/jwt/format", responses=JWT_FORMAT)
def read_jwt_format(tenantId: str) -> dict[str, Any]:
    from portcullis.access.apicaller import api_caller
    from portcullis.users import customjwt

    return customjwt.read_format(api_caller(app).tenant(tenantId, "read"))


@app.get("/v0/tenants/<tenantId>/auth/jwt/claims", responses=JWT_CLAIMS)
def read_jwt_claims(tenantId: str) -> dict[str, Any]:
    from portcullis.access.apicaller import api_caller
    from portcullis.users import customjwt

    tenant = api_caller(app).tenant(tenantId, "read")
    return list_envelope(customjwt.possible_claims(tenant), meta=False)


# ------------------------------------------------------------- public key routes


@app.get("/v0/tenants/<tenantId>/keys/jwt", responses=PUBLIC_KEYS)
def list_public_keys(tenantId: str) -> Response[dict[str, Any]]:
    body = list_envelope(jwks.public_keys(tenantId, _query_mode()), meta=False)
    return json_response(body, headers=CACHE)


@app.get("/v0/tenants/<tenantId>/jwks", responses=KEY_SET)
def read_jwks(tenantId: str) -> Response[dict[str, Any]]:
    return json_response(jwks.key_set(tenantId, _query_mode()), headers=CACHE)


@app.get("/v0/tenants/<tenantId>/jwks/<mode>", responses=KEY_SET)
def read_jwks_for_mode(tenantId: str, mode: str) -> Response[dict[str, Any]]:
    if mode not in ("live", "test"):
        raise NotFound("Not Found")
    return json_response(jwks.key_set(tenantId, mode), headers=CACHE)


# --- Signing-key rotation (an extension, docs/keyrotation.md) -----------------------
# Admin routes: API key or admin token, mode from the credential as on every server
# route. The body is read after the credential check (api-server §4), not by the
# resolver. Callers and rotation are imported on first use, so the public key endpoints
# above, which verifiers call, keep their short cold start.


class RotateOptions(BaseModel):
    model_config = STRICT
    activateNow: bool = False  # sign with the new key at once, skipping the warm-up


@app.post("/v0/tenants/<tenantId>/keys/jwt/rotate", responses=ROTATED)
def rotate_jwt_key(tenantId: str) -> dict[str, Any]:
    """Add a signing key to the tenant's JWKS; it signs after the warm-up or at once."""
    from portcullis.access.apicaller import api_caller
    from portcullis.tokens import rotation

    who = api_caller(app)
    tenant = who.tenant(tenantId, "admin")
    try:
        options = RotateOptions.model_validate(json_body(app, default={}))
    except ValidationError as refused:
        raise bad_request_from(refused) from None
    return rotation.rotate(tenant.tenantId, who.mode, activate_now=options.activateNow).json()


@app.delete("/v0/tenants/<tenantId>/keys/jwt/<kid>", responses=WITHDRAWN)
def remove_jwt_key(tenantId: str, kid: str) -> dict[str, Any]:
    """Withdraw a key that does not sign (compromise): out of the JWKS, verifies nothing."""
    from portcullis.access.apicaller import api_caller
    from portcullis.tokens import rotation

    who = api_caller(app)
    tenant = who.tenant(tenantId, "admin")
    if not UUID.match(kid):
        raise NotFound("Key not found")
    return {"message": "OK", "result": rotation.remove(tenant.tenantId, who.mode, kid.lower())}


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
