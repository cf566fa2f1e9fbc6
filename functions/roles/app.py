"""Roles: define, list and delete roles, set a user's roles, invite a user to a role
(api-server §9), at account level (the home tenant) and tenant level."""

import gc
from typing import Any
from urllib.parse import unquote

from portcullis.access import callers, roles, userscope
from portcullis.access.callers import api_caller
from portcullis.platform.errors import NotFound
from portcullis.platform.http import create_app, handler
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.users import invitations
from portcullis.users import service as users
from portcullis.users.fields import RoleInvite, RoleList, RoleName

app = create_app(credentials=api_caller)


def caller() -> callers.Caller:
    who: callers.Caller = api_caller(app)
    return who


def _user_for_roles(
    who: callers.Caller, role_tenant: tenant_store.TenantItem, user_id: str
) -> user_store.UserItem:
    """§9.8: the user is looked up among the credential's home tenant's users first,
    then among users owned by the role's tenant (users normally live in the workspace
    while holding roles in child tenants)."""
    raw = unquote(user_id)
    owners = [who.tenant_id]
    if role_tenant.tenantId != who.tenant_id:
        owners.append(role_tenant.tenantId)
    for owner in owners:
        try:
            return users.get_by_path_id(who.mode, owner, raw)
        except NotFound:
            continue
    raise NotFound(users.USER_NOT_FOUND)


def _set_roles(
    who: callers.Caller, tenant: tenant_store.TenantItem, user_id: str, body: RoleList
) -> dict[str, Any]:
    """A caller scoped to a child tenant reaches only users of its subtree (404 for any
    other) and sees only their roles inside it (`userscope`)."""
    scope = userscope.scope(who, tenant, "admin")
    user = scope.require(_user_for_roles(who, tenant, user_id))
    updated = users.set_roles(tenant, user, body.roles)
    return scope.shown(users.user_json(updated))


def _invite(
    who: callers.Caller, tenant: tenant_store.TenantItem, body: RoleInvite
) -> dict[str, Any]:
    """§9.9: the user is created in (or found among) the home tenant's users and gets
    roles in the addressed tenant. An existing user the caller's subtree does not own is
    invited by email only: the answer never carries its link (`userscope`)."""
    owner = tenant
    if tenant.tenantId != who.tenant_id:
        # The credential already proved admin rights on `tenant`; its home tenant is
        # where the user record lives (for a token: the user's own tenant).
        owner = tenant_store.get_tenant(who.mode, who.tenant_id) or tenant
    scope = userscope.scope(who, tenant, "admin")
    fields = body.model_dump(exclude_unset=True)
    role_names = fields.pop("roles")
    options = fields.pop("options", None)
    invitation = invitations.invite(
        who.mode, owner, fields, options, role_tenant=tenant, role_names=role_names
    )
    # A link is a sign-in as that user: only for a user this call created or one owned
    # inside the caller's subtree, never for one that merely holds a role there (it may
    # be a workspace admin).
    reveal = invitation.prior_roles is None or scope.owns(invitation.user)
    return scope.shown(invitations.invitation_json(invitation, with_link=reveal))


# ----------------------------------------------------------------- account level


@app.post("/v0/roles")
def create_role(body: RoleName) -> dict[str, Any]:
    who = caller()
    return roles.create(who.mode, who.home("admin"), body.name)


@app.get("/v0/roles")
def list_roles() -> dict[str, Any]:
    who = caller()
    return roles.list_roles(who.mode, who.home("read"))


@app.delete("/v0/roles")
def delete_role_by_body(body: RoleName) -> dict[str, Any]:
    who = caller()
    return roles.delete(who.mode, who.home("admin"), body.name)


@app.delete("/v0/roles/<roleName>")
def delete_role(roleName: str) -> dict[str, Any]:
    who = caller()
    return roles.delete(who.mode, who.home("admin"), unquote(roleName))


@app.post("/v0/roles/invite")
def invite_to_role(body: RoleInvite) -> dict[str, Any]:
    who = caller()
    return _invite(who, who.home("admin"), body)


@app.put("/v0/users/<userId>/roles")
def set_user_roles(userId: str, body: RoleList) -> dict[str, Any]:
    who = caller()
    return _set_roles(who, who.home("admin"), userId, body)


@app.post("/v0/users/<userId>/roles")
def set_user_roles_post(userId: str, body: RoleList) -> dict[str, Any]:
    return set_user_roles(userId, body)


# ----------------------------------------------------------------- tenant level


@app.post("/v0/tenants/<tenantId>/roles")
def create_tenant_role(tenantId: str, body: RoleName) -> dict[str, Any]:
    who = caller()
    return roles.create(who.mode, who.tenant(tenantId, "admin"), body.name)


@app.get("/v0/tenants/<tenantId>/roles")
def list_tenant_roles(tenantId: str) -> dict[str, Any]:
    who = caller()
    return roles.list_roles(who.mode, who.tenant(tenantId, "read"))


@app.delete("/v0/tenants/<tenantId>/roles")
def delete_tenant_role_by_body(tenantId: str, body: RoleName) -> dict[str, Any]:
    who = caller()
    return roles.delete(who.mode, who.tenant(tenantId, "admin"), body.name)


@app.delete("/v0/tenants/<tenantId>/roles/<roleName>")
def delete_tenant_role(tenantId: str, roleName: str) -> dict[str, Any]:
    who = caller()
    return roles.delete(who.mode, who.tenant(tenantId, "admin"), unquote(roleName))


@app.post("/v0/tenants/<tenantId>/roles/invite")
def invite_to_tenant_role(tenantId: str, body: RoleInvite) -> dict[str, Any]:
    who = caller()
    return _invite(who, who.tenant(tenantId, "admin"), body)


@app.put("/v0/tenants/<tenantId>/users/<userId>/roles")
def set_tenant_user_roles(tenantId: str, userId: str, body: RoleList) -> dict[str, Any]:
    who = caller()
    return _set_roles(who, who.tenant(tenantId, "admin"), userId, body)


@app.post("/v0/tenants/<tenantId>/users/<userId>/roles")
def set_tenant_user_roles_post(tenantId: str, userId: str, body: RoleList) -> dict[str, Any]:
    return set_tenant_user_roles(tenantId, userId, body)


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
