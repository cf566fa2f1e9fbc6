"""API keys: create, list (masked), verify, invalidate, delete (api-server §11)."""

import gc
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portcullis import keys, settings
from portcullis.errors import BadRequest
from portcullis.http import api_caller, create_app, handler
from portcullis.ratelimit import fixedwindow, parentlimits

app = create_app(credentials=api_caller)

_STRICT = ConfigDict(strict=True, extra="forbid", defer_build=True)  # built on first use
TenantId = Annotated[str, Field(pattern=r"^[a-z0-9]{8}$")]


class KeyCreate(BaseModel):
    model_config = _STRICT
    type: Literal["admin", "readonly", "webhook"]
    tenantId: TenantId | None = None


class KeyRef(BaseModel):
    model_config = _STRICT
    key: Annotated[str, Field(min_length=1, max_length=200)]


def _key_type(value: str) -> str:
    if value not in keys.KEY_TYPES:
        raise BadRequest('"type" must be one of [admin, readonly, webhook]')
    return value


@app.post("/v0/keys")
def create_key(body: KeyCreate) -> dict[str, Any]:
    who = api_caller(app)
    tenant = who.tenant(body.tenantId or who.home_id("admin"), "admin")
    return keys.create(tenant.tenantId, who.mode, body.type)


@app.get("/v0/keys/<type>")
def list_keys(type: str) -> dict[str, Any]:
    who = api_caller(app)
    key_type = _key_type(type)
    tenant = who.home("admin")
    return _envelope(keys.list_keys(tenant.tenantId, who.mode, key_type))


@app.get("/v0/tenants/<tenantId>/keys/<type>")
def list_tenant_keys(tenantId: str, type: str) -> dict[str, Any]:
    who = api_caller(app)
    key_type = _key_type(type)
    tenant = who.tenant(tenantId, "admin")
    return _envelope(keys.list_keys(tenant.tenantId, who.mode, key_type))


@app.post("/v0/keys/verify")
def verify_key(body: KeyRef) -> dict[str, Any]:
    who = api_caller(app)
    home = who.home("admin")
    limits = parentlimits.effective(
        who.mode, home, settings.read(who.mode, home.tenantId)
    ).rateLimits
    fixedwindow.hit("verifyKeyPerCredential", limits.verifyKeyPerCredential, who.credential)
    return keys.verify(body.key, who.key_digest, who.mode, lambda t: who.can_reach(t, "admin"))


@app.put("/v0/keys/invalidate")
def invalidate_key(body: KeyRef) -> dict[str, Any]:
    who = api_caller(app)
    who.home("admin")
    return keys.invalidate(body.key, who.mode, lambda t: who.can_reach(t, "admin"))


@app.delete("/v0/keys")
def delete_key(body: KeyRef) -> dict[str, Any]:
    who = api_caller(app)
    who.home("admin")
    return keys.delete(body.key, who.mode, lambda t: who.can_reach(t, "admin"))


def _envelope(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"totalCount": len(results), "totalPages": 1 if results else 0, "results": results}


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
