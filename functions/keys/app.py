"""API keys: create, list (masked), verify, invalidate, delete (api-server §11)."""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from portcullis.access import apikeys as keys
from portcullis.access.apicaller import api_caller
from portcullis.access.responses import KEY_CHANGED, KEY_CHECKED, KEY_CREATED, KEYS
from portcullis.platform.errors import BadRequest
from portcullis.platform.http import create_app, handler
from portcullis.platform.identifiers import TENANT_ID
from portcullis.platform.models import STRICT as _STRICT
from portcullis.search.envelope import list_envelope

app = create_app(credentials=api_caller)

TenantId = Annotated[str, Field(pattern=TENANT_ID.pattern)]


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


@app.post("/v0/keys", responses=KEY_CREATED)
def create_key(body: KeyCreate) -> dict[str, Any]:
    who = api_caller(app)
    tenant = who.tenant(body.tenantId or who.home_id("admin"), "admin")
    return keys.create(tenant.tenantId, who.mode, body.type)


@app.get("/v0/keys/<type>", responses=KEYS)
def list_keys(type: str) -> dict[str, Any]:
    who = api_caller(app)
    key_type = _key_type(type)
    tenant = who.home("admin")
    return list_envelope(keys.list_keys(tenant.tenantId, who.mode, key_type), meta=False)


@app.get("/v0/tenants/<tenantId>/keys/<type>", responses=KEYS)
def list_tenant_keys(tenantId: str, type: str) -> dict[str, Any]:
    who = api_caller(app)
    key_type = _key_type(type)
    tenant = who.tenant(tenantId, "admin")
    return list_envelope(keys.list_keys(tenant.tenantId, who.mode, key_type), meta=False)


@app.post("/v0/keys/verify", responses=KEY_CHECKED)
def verify_key(body: KeyRef) -> dict[str, Any]:
    return keys.verify_for(api_caller(app), body.key)


@app.put("/v0/keys/invalidate", responses=KEY_CHANGED)
def invalidate_key(body: KeyRef) -> dict[str, Any]:
    who = api_caller(app)
    who.home("admin")
    return keys.invalidate(body.key, who.mode, lambda t: who.can_reach(t, "admin"))


@app.delete("/v0/keys", responses=KEY_CHANGED)
def delete_key(body: KeyRef) -> dict[str, Any]:
    who = api_caller(app)
    who.home("admin")
    return keys.delete(body.key, who.mode, lambda t: who.can_reach(t, "admin"))


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
