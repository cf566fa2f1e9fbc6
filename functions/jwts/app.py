"""Public JWT verification keys: PEM list and JWKS (api-server §12.1–12.2), and custom
JWTs (§12.3–12.6: format, possible claims, minted tokens; API key or admin token).

The mode of the public key endpoints comes only from the path or `?test=true` and
defaults to live, never from the Origin: servers verifying production tokens read these
(spec README rule 5). The custom JWT endpoints take it from the credential; their core
(`portcullis.users.customjwt`, with callers and sessions) is imported on their first
request, so the public key endpoints, which verifiers call, keep their short cold start.
"""

import gc
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel, ConfigDict, Field

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
from portcullis.platform.identifiers import UUID_PATTERN
from portcullis.search.envelope import list_envelope
from portcullis.tokens import jwks

if TYPE_CHECKING:
    from portcullis.access.callers import Caller

_STRICT = ConfigDict(strict=True, extra="forbid", defer_build=True)  # built on first use


class FormatBody(BaseModel):
    """§12.4: a template, or `null` for the default claims."""

    model_config = _STRICT
    format: dict[str, Any] | None


class MintOptions(BaseModel):
    model_config = _STRICT
    duration: Any = None  # parsed by durations.parse_duration for the §1.12 message


class MintBody(BaseModel):
    """§12.3."""

    model_config = _STRICT
    payload: dict[str, Any]
    userId: Annotated[int, Field(ge=1, le=10**15)] | None = None
    userUuid: Annotated[str, Field(pattern=UUID_PATTERN)] | None = None
    options: MintOptions | None = None


def _caller(resolver: APIGatewayRestResolver) -> "Caller":
    """The API credential of a custom JWT route (imported on first use, see above)."""
    from portcullis.access.callers import api_caller

    return api_caller(resolver)


def _custom_jwt_credentials(resolver: APIGatewayRestResolver) -> None:
    """The custom JWT routes check the API credential before their body; the key
    endpoints are public."""
    if "/auth/jwt" in resolver.current_event.path:
        _caller(resolver)


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
    from portcullis.users import customjwt

    tenant = _caller(app).tenant(tenantId, "admin")
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
def save_jwt_format(tenantId: str, body: FormatBody) -> dict[str, Any]:
    from portcullis.users import customjwt

    return customjwt.save_format(_caller(app).tenant(tenantId, "admin"), body.format)


@app.get("/v0/tenants/<tenantId>/auth/jwt/format")
def read_jwt_format(tenantId: str) -> dict[str, Any]:
    from portcullis.users import customjwt

    return customjwt.read_format(_caller(app).tenant(tenantId, "read"))


@app.get("/v0/tenants/<tenantId>/auth/jwt/claims")
def read_jwt_claims(tenantId: str) -> dict[str, Any]:
    from portcullis.users import customjwt

    tenant = _caller(app).tenant(tenantId, "read")
    return list_envelope(customjwt.possible_claims(tenant), meta=False)


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
