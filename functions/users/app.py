"""Users: create, read, update, delete, search, invite, createOrUpdate, mark active, and
server-side link generation (api-server §7.1-7.8, §13.1), at account level (the
credential's home tenant) and tenant level (`/v0/tenants/{tenantId}/...`)."""

import gc
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel

from portcullis.access import callers, userscope
from portcullis.access.callers import api_caller
from portcullis.platform.bodies import json_body
from portcullis.platform.errors import BadRequest, MethodNotAllowed
from portcullis.platform.http import create_app, handler
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.users import invitations
from portcullis.users import service as users
from portcullis.users.fields import (
    LinkGenerate,
    LinkOptions,
    UserCreate,
    UserCreateOrUpdate,
    UserInvite,
    UserWrite,
)

app = create_app(credentials=api_caller)

# Static segments under /v0/users that a GET/PUT/DELETE on `{userId}` must not swallow.
_RESERVED = {"find", "invite", "createOrUpdate"}


def caller() -> callers.Caller:
    who: callers.Caller = api_caller(app)
    return who


def _fields(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)


def _user(tenant: tenant_store.TenantItem, user_id: str) -> user_store.UserItem:
    raw = unquote(user_id)
    if raw in _RESERVED:
        raise MethodNotAllowed()
    return users.get_by_path_id(tenant.mode, tenant.tenantId, raw)


def _listing_body() -> dict[str, Any]:
    """GET listing: page, limit, order, search from the query string (§7.5)."""
    params = app.current_event.query_string_parameters or {}
    names = ("page", "limit", "order", "search", "continuation")
    return {k: params[k] for k in names if k in params}


def _search_body() -> Any:
    body = json_body(app, default={})
    if body is None:
        return {}
    return body


def _mark_active_body() -> None:
    body = json_body(app, default={})
    if body is None or body == {}:
        return
    if not isinstance(body, dict):
        raise BadRequest('"body" must be an object')
    raise BadRequest(f'"{next(iter(body))}" is not allowed')


# ----------------------------------------------------------------- shared implementations


def _create(tenant: tenant_store.TenantItem, body: UserCreate) -> dict[str, Any]:
    fields = _fields(body)
    roles = fields.pop("roles", None)
    item = users.register(tenant.mode, tenant, fields, role_names=roles)
    return users.user_json(item, tenant=tenant)


def _shown(
    who: callers.Caller, tenant: tenant_store.TenantItem, body: dict[str, Any]
) -> dict[str, Any]:
    """A User object as a caller scoped below the workspace may see it: only the roles
    inside its subtree (`userscope`); the users themselves are the addressed tenant's."""
    return userscope.scope(who, tenant, "read").shown(body)


def _find(who: callers.Caller, tenant: tenant_store.TenantItem, body: Any) -> dict[str, Any]:
    found = users.find(
        who.mode, tenant, body, role_scope=lambda tenant_id: who.can_reach(tenant_id, "read")
    )
    return userscope.scope(who, tenant, "read").shown_list(found)


def _invite(tenant: tenant_store.TenantItem, body: UserInvite) -> dict[str, Any]:
    fields = _fields(body)
    options = fields.pop("options", None)
    invitation = invitations.invite(tenant.mode, tenant, fields, options)
    return invitations.invitation_json(invitation)


def _create_or_update(tenant: tenant_store.TenantItem, body: UserCreateOrUpdate) -> dict[str, Any]:
    item = users.create_or_update(tenant.mode, tenant, _fields(body))
    return users.user_json(item, tenant=tenant)


def _update(tenant: tenant_store.TenantItem, user_id: str, body: UserWrite) -> dict[str, Any]:
    user = _user(tenant, user_id)
    return users.user_json(users.update(user, _fields(body)), tenant=tenant)


def _generate(tenant: tenant_store.TenantItem, body: LinkGenerate) -> dict[str, Any]:
    options = body.options or LinkOptions()
    return invitations.generate_link(
        tenant.mode,
        tenant,
        email=body.email,
        user_id=body.userId,
        user_uuid=body.userUuid,
        link_type=options.type,
        duration=options.duration,
    )


# ----------------------------------------------------------------- account level


@app.post("/v0/users")
def create_user(body: UserCreate) -> dict[str, Any]:
    return _create(caller().home("admin"), body)


@app.get("/v0/users")
def list_users() -> dict[str, Any]:
    who = caller()
    return _find(who, who.home("read"), _listing_body())


@app.post("/v0/users/find")
def find_users() -> dict[str, Any]:
    who = caller()
    tenant = who.home("read")
    return _find(who, tenant, _search_body())


@app.post("/v0/users/invite")
def invite_user(body: UserInvite) -> dict[str, Any]:
    return _invite(caller().home("admin"), body)


@app.post("/v0/users/createOrUpdate")
def create_or_update_user(body: UserCreateOrUpdate) -> dict[str, Any]:
    return _create_or_update(caller().home("admin"), body)


@app.get("/v0/users/<userId>")
def read_user(userId: str) -> dict[str, Any]:
    who = caller()
    tenant = who.home("read")
    return _shown(who, tenant, users.user_json(_user(tenant, userId), tenant=tenant))


@app.put("/v0/users/<userId>")
def update_user(userId: str, body: UserWrite) -> dict[str, Any]:
    who = caller()
    tenant = who.home("admin")
    return _shown(who, tenant, _update(tenant, userId, body))


@app.delete("/v0/users/<userId>")
def delete_user(userId: str) -> dict[str, Any]:
    tenant = caller().home("admin")
    return users.delete(_user(tenant, userId))


@app.post("/v0/users/<userId>/active")
def mark_user_active(userId: str) -> dict[str, Any]:
    tenant = caller().home("admin")
    _mark_active_body()
    return users.mark_active(_user(tenant, userId))


@app.put("/v0/users/<userId>/active")
def mark_user_active_put(userId: str) -> dict[str, Any]:
    return mark_user_active(userId)


@app.post("/v0/auth/link/generate")
def generate_link(body: LinkGenerate) -> dict[str, Any]:
    return _generate(caller().home("admin"), body)


# ----------------------------------------------------------------- tenant level


@app.post("/v0/tenants/<tenantId>/users")
def create_tenant_user(tenantId: str, body: UserCreate) -> dict[str, Any]:
    return _create(caller().tenant(tenantId, "admin"), body)


@app.get("/v0/tenants/<tenantId>/users")
def list_tenant_users(tenantId: str) -> dict[str, Any]:
    who = caller()
    return _find(who, who.tenant(tenantId, "read"), _listing_body())


@app.post("/v0/tenants/<tenantId>/users/find")
def find_tenant_users(tenantId: str) -> dict[str, Any]:
    who = caller()
    tenant = who.tenant(tenantId, "read")
    return _find(who, tenant, _search_body())


@app.post("/v0/tenants/<tenantId>/users/invite")
def invite_tenant_user(tenantId: str, body: UserInvite) -> dict[str, Any]:
    return _invite(caller().tenant(tenantId, "admin"), body)


@app.post("/v0/tenants/<tenantId>/users/createOrUpdate")
def create_or_update_tenant_user(tenantId: str, body: UserCreateOrUpdate) -> dict[str, Any]:
    return _create_or_update(caller().tenant(tenantId, "admin"), body)


@app.get("/v0/tenants/<tenantId>/users/<userId>")
def read_tenant_user(tenantId: str, userId: str) -> dict[str, Any]:
    who = caller()
    tenant = who.tenant(tenantId, "read")
    return _shown(who, tenant, users.user_json(_user(tenant, userId), tenant=tenant))


@app.put("/v0/tenants/<tenantId>/users/<userId>")
def update_tenant_user(tenantId: str, userId: str, body: UserWrite) -> dict[str, Any]:
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    return _shown(who, tenant, _update(tenant, userId, body))


@app.delete("/v0/tenants/<tenantId>/users/<userId>")
def delete_tenant_user(tenantId: str, userId: str) -> dict[str, Any]:
    tenant = caller().tenant(tenantId, "admin")
    return users.delete(_user(tenant, userId))


@app.post("/v0/tenants/<tenantId>/users/<userId>/active")
def mark_tenant_user_active(tenantId: str, userId: str) -> dict[str, Any]:
    tenant = caller().tenant(tenantId, "admin")
    _mark_active_body()
    return users.mark_active(_user(tenant, userId))


@app.put("/v0/tenants/<tenantId>/users/<userId>/active")
def mark_tenant_user_active_put(tenantId: str, userId: str) -> dict[str, Any]:
    return mark_tenant_user_active(tenantId, userId)


@app.post("/v0/tenants/<tenantId>/auth/link/generate")
def generate_tenant_link(tenantId: str, body: LinkGenerate) -> dict[str, Any]:
    return _generate(caller().tenant(tenantId, "admin"), body)


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
