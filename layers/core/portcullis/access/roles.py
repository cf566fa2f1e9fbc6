"""Role definitions per tenant (api-server §1.6, §9; concepts §3).

A role is a name inside one tenant. Definitions live in the tenant's partition;
who holds which role is on the user record (`roles` map) and mirrored in assignment
items (store/roles.py), both written in one transaction by `users.roleassignments`.
This module knows nothing of users: deleting a role from its holders is
`users.roleassignments.delete_role`, which calls `delete` here.

Name rules: 1-100 characters, no leading or trailing whitespace, case preserved and
compared exactly (§1.6); additionally no `:` (the separator of role search values,
concepts §3.1) and no control characters.
"""

from __future__ import annotations

import time
from typing import Any

from portcullis.platform.errors import BadRequest, NotFound
from portcullis.platform.timefmt import now_iso
from portcullis.search.envelope import list_envelope
from portcullis.store import roles as store
from portcullis.store import tenants as tenant_store
from portcullis.store.base import Item

DEFAULT_ROLES: tuple[str, ...] = (
    "subscriber",
    "viewer",
    "contributor",
    "support",
    "member",
    "editor",
    "author",
    "admin",
    "owner",
)
MAX_NAME_LENGTH = 100
ROLE_NOT_FOUND = "Role not found"


def name_problem(name: Any) -> str | None:
    """Why `name` cannot be a role name (the message's tail), or None."""
    if not isinstance(name, str):
        return "must be a string"
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        return f"must contain between 1 and {MAX_NAME_LENGTH} characters"
    if name != name.strip():
        return "must not start or end with whitespace"
    if ":" in name:
        return 'must not contain ":"'
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "must not contain control characters"
    return None


def validate_name(name: Any, field: str = "name") -> str:
    problem = name_problem(name)
    if problem:
        raise BadRequest(f'"{field}" {problem}')
    return str(name)


def role_json(item: tenant_store.RoleItem) -> dict[str, Any]:
    return {"name": item.name, "tenantId": item.tenantId, "createdAt": item.createdAt}


def names(mode: str, tenant_id: str) -> list[str]:
    return [item.name for item in tenant_store.list_roles(mode, tenant_id)]


def require_roles(mode: str, tenant_id: str, wanted: list[str] | None) -> list[str]:
    """The requested names, duplicates collapsed in first-seen order, all defined in the
    tenant; else 400 `Role "<name>" does not exist` for the first unknown one."""
    result: list[str] = []
    for index, name in enumerate(wanted or []):
        if not isinstance(name, str):
            raise BadRequest(f'"roles[{index}]" must be a string')
        if name not in result:
            result.append(name)
    if not result:
        return result
    defined = set(names(mode, tenant_id))
    for name in result:
        if name not in defined:
            raise BadRequest(f'Role "{name}" does not exist')
    return result


def create(mode: str, tenant: tenant_store.TenantItem, name: Any) -> dict[str, Any]:
    """Define a role; it sorts after every existing one (creation order, §9.2)."""
    valid = validate_name(name)
    # Defaults use positions 0-8; later roles use creation time in milliseconds.
    position = int(time.time() * 1000)
    item = tenant_store.new_role_item(mode, tenant.tenantId, valid, position, now_iso())
    try:
        store.create_role(item)
    except store.RoleExists:
        raise BadRequest("Role already exists") from None
    return role_json(item)


def list_roles(mode: str, tenant: tenant_store.TenantItem) -> dict[str, Any]:
    results = [role_json(item) for item in tenant_store.list_roles(mode, tenant.tenantId)]
    return list_envelope(results, meta=False)


def delete(mode: str, tenant: tenant_store.TenantItem, name: Any, follow_up: list[Item]) -> None:
    """Remove a role definition together with `follow_up` items (the holders' clean-up
    task, which `users.roleassignments.delete_role` queues and runs), in one
    transaction; 404 `Role not found` when there is no such role."""
    if not isinstance(name, str) or name_problem(name):
        raise NotFound(ROLE_NOT_FOUND)
    try:
        store.delete_role(mode, tenant.tenantId, name, follow_up)
    except store.RoleMissing:
        raise NotFound(ROLE_NOT_FOUND) from None
