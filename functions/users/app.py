"""Users: create, read, update, delete, search, invite, createOrUpdate, mark active, and
server-side link generation (api-server §7.1-7.8, §13.1), at account level (the
credential's home tenant) and tenant level (`/v0/tenants/{tenantId}/...`)."""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel

from portcullis.access import callers, userscope
from portcullis.access.apicaller import api_caller
from portcullis.platform.bodies import json_body, no_body
from portcullis.platform.errors import MethodNotAllowed
from portcullis.platform.http import create_app, handler
from portcullis.users import lookups, mfa, search, service, upsert
from portcullis.users.fields import UserWrite
from portcullis.users.inputs import LinkGenerate, UserCreate, UserCreateOrUpdate, UserInvite
from portcullis.users.records import Tenant, User
from portcullis.users.rendering import user_json
from portcullis.users.responses import GENERATED_LINK as LINK
from portcullis.users.responses import MARKED_ACTIVE as ACTIVE
from portcullis.users.responses import USER, USERS

app = create_app(credentials=api_caller)

# Static segments under /v0/users that a GET/PUT/DELETE on `{userId}` must not swallow.
_RESERVED = {"find", "invite", "createOrUpdate"}


def caller() -> callers.Caller:
    return api_caller(app)


def _fields(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)


def _user(tenant: Tenant, user_id: str) -> User:
    raw = unquote(user_id)
    if raw in _RESERVED:
        raise MethodNotAllowed()
    return lookups.get_by_path_id(tenant.mode, tenant.tenantId, raw)


def _listing_body() -> dict[str, Any]:
    """GET listing: page, limit, order, search from the query string (§7.5)."""
    params = app.current_event.query_string_parameters or {}
    names = ("page", "limit", "order", "search", "continuation")
    return {k: params[k] for k in names if k in params}


def _search_body() -> Any:
    body = json_body(app, default={})
    return {} if body is None else body


def _create(tenant: Tenant, body: UserCreate) -> dict[str, Any]:
    fields = _fields(body)
    roles = fields.pop("roles", None)
    return user_json(service.register(tenant.mode, tenant, fields, role_names=roles), tenant=tenant)


def _shown(who: callers.Caller, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """A User object as a caller scoped below the workspace may see it: only the roles
    inside its subtree (`userscope`); the users themselves are the addressed tenant's."""
    return userscope.scope(who, tenant, "read").shown(body)


def _read(who: callers.Caller, tenant: Tenant, user_id: str) -> dict[str, Any]:
    from portcullis.sso.identities import with_identities  # off the import path: reads only

    user = _user(tenant, user_id)
    return _shown(who, tenant, with_identities(user_json(user, tenant=tenant), tenant, user))


def _invite(tenant: Tenant, body: UserInvite) -> dict[str, Any]:
    from portcullis.users import invitations  # off the import path: invites and links only

    fields = _fields(body)
    options = fields.pop("options", None)
    return invitations.invitation_json(invitations.invite(tenant.mode, tenant, fields, options))


def _create_or_update(tenant: Tenant, body: UserCreateOrUpdate) -> dict[str, Any]:
    return user_json(upsert.create_or_update(tenant.mode, tenant, _fields(body)), tenant=tenant)


def _update(tenant: Tenant, user_id: str, body: UserWrite) -> dict[str, Any]:
    return user_json(service.update(_user(tenant, user_id), _fields(body)), tenant=tenant)


def _remove_totp(who: callers.Caller, tenant: Tenant, user_id: str) -> dict[str, Any]:
    """Admin recovery (docs/auth.md): the same scope checks as `PUT` of the user."""
    return _shown(who, tenant, user_json(mfa.remove_totp(_user(tenant, user_id)), tenant=tenant))


def _active(tenant: Tenant, user_id: str) -> dict[str, Any]:
    no_body(app)
    return service.mark_active(_user(tenant, user_id))


# ----------------------------------------------------------------- account level


@app.post("/v0/users", responses=USER)
def create_user(body: UserCreate) -> dict[str, Any]:
    return _create(caller().home("admin"), body)


@app.get("/v0/users", responses=USERS)
def list_users() -> dict[str, Any]:
    who = caller()
    return search.find_for(who, who.home("read"), _listing_body())


@app.post("/v0/users/find", responses=USERS)
def find_users() -> dict[str, Any]:
    who = caller()
    return search.find_for(who, who.home("read"), _search_body())


@app.post("/v0/users/invite", responses=USER)
def invite_user(body: UserInvite) -> dict[str, Any]:
    return _invite(caller().home("admin"), body)


@app.post("/v0/users/createOrUpdate", responses=USER)
def create_or_update_user(body: UserCreateOrUpdate) -> dict[str, Any]:
    return _create_or_update(caller().home("admin"), body)


@app.get("/v0/users/<userId>", responses=USER)
def read_user(userId: str) -> dict[str, Any]:
    who = caller()
    return _read(who, who.home("read"), userId)


@app.put("/v0/users/<userId>", responses=USER)
def update_user(userId: str, body: UserWrite) -> dict[str, Any]:
    who = caller()
    tenant = who.home("admin")
    return _shown(who, tenant, _update(tenant, userId, body))


@app.delete("/v0/users/<userId>", responses=USER)
def delete_user(userId: str) -> dict[str, Any]:
    tenant = caller().home("admin")
    return service.delete(_user(tenant, userId))


@app.delete("/v0/users/<userId>/totp", responses=USER)
def remove_user_totp(userId: str) -> dict[str, Any]:
    who = caller()
    return _remove_totp(who, who.home("admin"), userId)


@app.route("/v0/users/<userId>/active", method=["POST", "PUT"], responses=ACTIVE)
def mark_user_active(userId: str) -> dict[str, Any]:
    return _active(caller().home("admin"), userId)


@app.post("/v0/auth/link/generate", responses=LINK)
def generate_link(body: LinkGenerate) -> dict[str, Any]:
    from portcullis.users import invitations  # off the import path: invites and links only

    return invitations.generate_link_for(caller().home("admin"), body)


# ----------------------------------------------------------------- tenant level


@app.post("/v0/tenants/<tenantId>/users", responses=USER)
def create_tenant_user(tenantId: str, body: UserCreate) -> dict[str, Any]:
    return _create(caller().tenant(tenantId, "admin"), body)


@app.get("/v0/tenants/<tenantId>/users", responses=USERS)
def list_tenant_users(tenantId: str) -> dict[str, Any]:
    who = caller()
    return search.find_for(who, who.tenant(tenantId, "read"), _listing_body())


@app.post("/v0/tenants/<tenantId>/users/find", responses=USERS)
def find_tenant_users(tenantId: str) -> dict[str, Any]:
    who = caller()
    return search.find_for(who, who.tenant(tenantId, "read"), _search_body())


@app.post("/v0/tenants/<tenantId>/users/invite", responses=USER)
def invite_tenant_user(tenantId: str, body: UserInvite) -> dict[str, Any]:
    return _invite(caller().tenant(tenantId, "admin"), body)


@app.post("/v0/tenants/<tenantId>/users/createOrUpdate", responses=USER)
def create_or_update_tenant_user(tenantId: str, body: UserCreateOrUpdate) -> dict[str, Any]:
    return _create_or_update(caller().tenant(tenantId, "admin"), body)


@app.get("/v0/tenants/<tenantId>/users/<userId>", responses=USER)
def read_tenant_user(tenantId: str, userId: str) -> dict[str, Any]:
    who = caller()
    return _read(who, who.tenant(tenantId, "read"), userId)


@app.put("/v0/tenants/<tenantId>/users/<userId>", responses=USER)
def update_tenant_user(tenantId: str, userId: str, body: UserWrite) -> dict[str, Any]:
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    return _shown(who, tenant, _update(tenant, userId, body))


@app.delete("/v0/tenants/<tenantId>/users/<userId>", responses=USER)
def delete_tenant_user(tenantId: str, userId: str) -> dict[str, Any]:
    tenant = caller().tenant(tenantId, "admin")
    return service.delete(_user(tenant, userId))


@app.delete("/v0/tenants/<tenantId>/users/<userId>/totp", responses=USER)
def remove_tenant_user_totp(tenantId: str, userId: str) -> dict[str, Any]:
    who = caller()
    return _remove_totp(who, who.tenant(tenantId, "admin"), userId)


@app.route("/v0/tenants/<tenantId>/users/<userId>/active", ["POST", "PUT"], responses=ACTIVE)
def mark_tenant_user_active(tenantId: str, userId: str) -> dict[str, Any]:
    return _active(caller().tenant(tenantId, "admin"), userId)


@app.post("/v0/tenants/<tenantId>/auth/link/generate", responses=LINK)
def generate_tenant_link(tenantId: str, body: LinkGenerate) -> dict[str, Any]:
    from portcullis.users import invitations  # off the import path: invites and links only

    return invitations.generate_link_for(caller().tenant(tenantId, "admin"), body)


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
