"""Tenants: create, read, update, delete, search children, and tenant settings."""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Annotated, Any

from pydantic import BaseModel, Field

from portcullis.access import callers
from portcullis.access.apicaller import api_caller
from portcullis.platform.bodies import json_body
from portcullis.platform.http import create_app, handler
from portcullis.platform.models import STRICT as _STRICT
from portcullis.tenants import service as tenants
from portcullis.tenants.responses import SETTINGS, TENANT, TENANTS

app = create_app(credentials=api_caller)

Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^https?://\S+$")]
# A name is shown in dashboards, emails and logs: no control characters (as role names).
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class TenantCreate(BaseModel):
    model_config = _STRICT
    name: Name
    image: Url | None = None
    data: dict[str, Any] | None = None


class TenantUpdate(BaseModel):
    model_config = _STRICT
    name: Name | None = None
    image: Url | None = None
    data: dict[str, Any] | None = None


def caller() -> callers.Caller:
    who: callers.Caller = api_caller(app)
    return who


@app.post("/v0/tenants", responses=TENANT)
def create_tenant(body: TenantCreate) -> dict[str, Any]:
    who = caller()
    parent = who.home("admin")
    item = tenants.create(who.mode, body.name, image=body.image, data=body.data, parent=parent)
    return tenants.tenant_json(item)


@app.post("/v0/tenants/<tenantId>/tenants", responses=TENANT)
def create_child_tenant(tenantId: str, body: TenantCreate) -> dict[str, Any]:
    who = caller()
    parent = who.tenant(tenantId, "admin")
    item = tenants.create(who.mode, body.name, image=body.image, data=body.data, parent=parent)
    return tenants.tenant_json(item)


@app.get("/v0/tenants/<tenantId>", responses=TENANT)
def read_tenant(tenantId: str) -> dict[str, Any]:
    return tenants.tenant_json(caller().tenant(tenantId, "read"))


@app.put("/v0/tenants/<tenantId>", responses=TENANT)
def update_tenant(tenantId: str, body: TenantUpdate) -> dict[str, Any]:
    item = caller().tenant(tenantId, "admin")
    changes = body.model_dump(exclude_unset=True)
    return tenants.tenant_json(tenants.update(item, changes))


@app.delete("/v0/tenants/<tenantId>", responses=TENANT)
def delete_tenant(tenantId: str) -> dict[str, Any]:
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    # Never the root of the caller's own scope (a key's tenant, a token's admin tenant).
    return tenants.delete(tenant, who.root(tenant, "admin"))


@app.post("/v0/tenants/<tenantId>/tenants/find", responses=TENANTS)
def search_tenants(tenantId: str) -> dict[str, Any]:
    who = caller()
    parent = who.tenant(tenantId, "read")
    return tenants.search_children(who.mode, parent.tenantId, json_body(app))


@app.get("/v0/tenants/<tenantId>/settings", responses=SETTINGS)
def read_settings(tenantId: str) -> dict[str, Any]:
    who = caller()
    return tenants.read_settings(who.mode, who.tenant(tenantId, "admin"))


@app.put("/v0/tenants/<tenantId>/settings", responses=SETTINGS)
def update_settings(tenantId: str) -> dict[str, Any]:
    who = caller()
    item = who.tenant(tenantId, "admin")
    return tenants.update_settings(who, item, json_body(app))


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
