"""Roles: define, list and delete roles, set a user's roles, invite a user to a role
(api-server §9), at account level (the home tenant) and tenant level."""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any
from urllib.parse import unquote

from portcullis.access import callers, roles
from portcullis.access.apicaller import api_caller
from portcullis.access.responses import ROLE, ROLE_DELETED, ROLES
from portcullis.platform.http import create_app, handler
from portcullis.users import roleassignments
from portcullis.users.inputs import RoleInvite, RoleList, RoleName
from portcullis.users.responses import USER

app = create_app(credentials=api_caller)


def caller() -> callers.Caller:
    who: callers.Caller = api_caller(app)
    return who


def _fields(body: RoleInvite) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)


# ----------------------------------------------------------------- account level


@app.post("/v0/roles", responses=ROLE)
def create_role(body: RoleName) -> dict[str, Any]:
    who = caller()
    return roles.create(who.mode, who.home("admin"), body.name)


@app.get("/v0/roles", responses=ROLES)
def list_roles() -> dict[str, Any]:
    who = caller()
    return roles.list_roles(who.mode, who.home("read"))


@app.delete("/v0/roles", responses=ROLE_DELETED)
def delete_role_by_body(body: RoleName) -> dict[str, Any]:
    who = caller()
    return roleassignments.delete_role(who.mode, who.home("admin"), body.name)


@app.delete("/v0/roles/<roleName>", responses=ROLE_DELETED)
def delete_role(roleName: str) -> dict[str, Any]:
    who = caller()
    return roleassignments.delete_role(who.mode, who.home("admin"), unquote(roleName))


@app.post("/v0/roles/invite", responses=USER)
def invite_to_role(body: RoleInvite) -> dict[str, Any]:
    from portcullis.users import invitations  # off the import path: only invites use it

    who = caller()
    return invitations.invite_to_role(who, who.home("admin"), _fields(body))


@app.route("/v0/users/<userId>/roles", method=["PUT", "POST"], responses=USER)
def set_user_roles(userId: str, body: RoleList) -> dict[str, Any]:
    who = caller()
    return roleassignments.set_roles_by_path(who, who.home("admin"), unquote(userId), body.roles)


# ----------------------------------------------------------------- tenant level


@app.post("/v0/tenants/<tenantId>/roles", responses=ROLE)
def create_tenant_role(tenantId: str, body: RoleName) -> dict[str, Any]:
    who = caller()
    return roles.create(who.mode, who.tenant(tenantId, "admin"), body.name)


@app.get("/v0/tenants/<tenantId>/roles", responses=ROLES)
def list_tenant_roles(tenantId: str) -> dict[str, Any]:
    who = caller()
    return roles.list_roles(who.mode, who.tenant(tenantId, "read"))


@app.delete("/v0/tenants/<tenantId>/roles", responses=ROLE_DELETED)
def delete_tenant_role_by_body(tenantId: str, body: RoleName) -> dict[str, Any]:
    who = caller()
    return roleassignments.delete_role(who.mode, who.tenant(tenantId, "admin"), body.name)


@app.delete("/v0/tenants/<tenantId>/roles/<roleName>", responses=ROLE_DELETED)
def delete_tenant_role(tenantId: str, roleName: str) -> dict[str, Any]:
    who = caller()
    return roleassignments.delete_role(who.mode, who.tenant(tenantId, "admin"), unquote(roleName))


@app.post("/v0/tenants/<tenantId>/roles/invite", responses=USER)
def invite_to_tenant_role(tenantId: str, body: RoleInvite) -> dict[str, Any]:
    from portcullis.users import invitations  # off the import path: only invites use it

    who = caller()
    return invitations.invite_to_role(who, who.tenant(tenantId, "admin"), _fields(body))


@app.route("/v0/tenants/<tenantId>/users/<userId>/roles", method=["PUT", "POST"], responses=USER)
def set_tenant_user_roles(tenantId: str, userId: str, body: RoleList) -> dict[str, Any]:
    who = caller()
    tenant = who.tenant(tenantId, "admin")
    return roleassignments.set_roles_by_path(who, tenant, unquote(userId), body.roles)


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
