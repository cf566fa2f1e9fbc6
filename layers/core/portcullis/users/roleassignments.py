"""Who holds which role: setting a user's roles in one tenant (api-server §9.7-9.8),
and taking a deleted role from every holder (§9.5).

The user record's `roles` map and the assignment items that mirror it (store/roles.py)
are written in one transaction, with the `user.update` event. Role *definitions* are
`access.roles`, which knows nothing of users; deleting a role is `delete_role` here,
which removes the definition there together with the clean-up task it queues.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from portcullis.access import roles as role_service
from portcullis.access import userscope
from portcullis.access.callers import Caller
from portcullis.messaging import outbox
from portcullis.platform.timefmt import now_iso
from portcullis.store import roles as role_store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as store
from portcullis.users import lookups
from portcullis.users.conflicts import retrying
from portcullis.users.rendering import Renderer, event_item, user_json

# The outbox task that finishes a role deletion should the request die half-way.
CLEANUP_TASK = "role.cleanup"


def role_change(
    user: store.UserItem, role_tenant_id: str, names: list[str], stamp: str
) -> tuple[list[store.Item], list[store.Item]]:
    """Set the user's roles in one tenant (in memory) and return the assignment writes."""
    roles = dict(user.roles or {})
    if names:
        roles[role_tenant_id] = list(names)
    else:
        roles.pop(role_tenant_id, None)
    user.roles = roles
    user.updatedAt = stamp
    if names:
        return [role_store.assignment_of(user, role_tenant_id)], []
    return [], [
        role_store.assignment_key(user.mode, role_tenant_id, user.tenantId, int(user.userId))
    ]


def _write_roles(
    user: store.UserItem, tenant_id: str, wanted: list[str], renderer: Renderer
) -> None:
    """Save `user` holding `wanted` in `tenant_id`, with the assignment items and the
    `user.update` event, in one transaction (raises `Changed`/`Contention` on a race)."""
    saves, deletes = role_change(user, tenant_id, wanted, now_iso())
    saves.append(event_item("update", user, renderer))
    store.save_user(user, store.unique_fields(user), store.Extra(saves, deletes))


def union(current: Iterable[str], added: Iterable[str]) -> list[str]:
    merged = list(current)
    merged.extend(name for name in added if name not in merged)
    return merged


def set_roles(
    role_tenant: tenant_store.TenantItem,
    user: store.UserItem,
    role_names: list[str],
    *,
    merge: bool = False,
) -> store.UserItem:
    """Replace (or with `merge`, extend) the user's roles in `role_tenant` only.

    Roles in every other tenant are untouched. A real change fires `user.update`; a
    request that changes nothing writes nothing.
    """
    names = role_service.require_roles(user.mode, role_tenant.tenantId, role_names)
    renderer = Renderer.for_tenant(user.mode, user.tenantId)
    current = user

    def attempt() -> store.UserItem:
        nonlocal current
        held = list((current.roles or {}).get(role_tenant.tenantId) or [])
        wanted = union(held, names) if merge else names
        if wanted == held:
            return current
        try:
            _write_roles(current, role_tenant.tenantId, wanted, renderer)
        except (store.Changed, store.Contention):
            current = lookups.reload(current)
            raise
        return current

    return retrying(attempt)


def set_roles_by_path(
    who: Caller, role_tenant: tenant_store.TenantItem, raw_user_id: str, role_names: list[str]
) -> dict[str, Any]:
    """PUT/POST `.../users/{userId}/roles` (§9.7-9.8): the user found by `lookups.for_roles`.
    A caller scoped to a child tenant reaches only users of its subtree (404 for any
    other) and sees only their roles inside it (`access.userscope`)."""
    scope = userscope.scope(who, role_tenant, "admin")
    found = lookups.for_roles(who.mode, who.tenant_id, role_tenant.tenantId, raw_user_id)
    updated = set_roles(role_tenant, scope.require(found), role_names)
    return scope.shown(user_json(updated))


def delete_role(mode: str, tenant: tenant_store.TenantItem, name: Any) -> dict[str, Any]:
    """Remove a role and take it from every holder in the tenant (§9.5).

    The definition is deleted together with a clean-up task in one transaction, then
    the clean-up runs at once for the response's `usersUpdated`. Should the request
    die half-way, the queued task finishes the job, so no user keeps a role that no
    longer exists.
    """
    task = outbox.task_item(
        CLEANUP_TASK,
        {"mode": mode, "tenant_id": tenant.tenantId, "role_name": name},
        mode=mode,
        tenant_id=tenant.tenantId,
    )
    # Read before the task exists: the task may strip holders while this request does.
    holders = list(role_store.holders(mode, tenant.tenantId, name))
    role_service.delete(mode, tenant, name, [task])
    updated = remove_role_from_holders(mode, tenant.tenantId, name, holders)
    return {"message": "OK", "result": {"name": name, "usersUpdated": updated}}


def remove_role_from_holders(
    mode: str, tenant_id: str, role_name: str, holders: list[Any] | None = None
) -> int:
    """Strip a deleted role from every user holding it in the tenant; returns how many
    users held it. Idempotent: it also runs as the `role.cleanup` outbox task, which may
    strip some holders at the same moment, so a holder counts whichever run changed it
    (the answer's `usersUpdated` does not depend on that race)."""
    held = 0
    found = role_store.holders(mode, tenant_id, role_name) if holders is None else holders
    for assignment in found:
        user = store.get_user(mode, assignment.userTenantId, int(assignment.userId))
        if user is None:
            role_store.delete_assignment(
                mode, tenant_id, assignment.userTenantId, int(assignment.userId)
            )
            continue
        drop_roles(user, tenant_id, {role_name})
        held += 1
    return held


def drop_roles(user: store.UserItem, tenant_id: str, names: set[str] | None) -> bool:
    """Remove `names` (or all, for None) from the user's roles in `tenant_id`; whether
    the record changed."""
    renderer = Renderer.for_tenant(user.mode, user.tenantId)
    current = user
    did_change = False

    def attempt() -> store.UserItem:
        nonlocal current, did_change
        held = list((current.roles or {}).get(tenant_id) or [])
        wanted = [] if names is None else [n for n in held if n not in names]
        if wanted == held and (held or tenant_id not in (current.roles or {})):
            return current
        try:
            _write_roles(current, tenant_id, wanted, renderer)
        except (store.Changed, store.Contention):
            current = lookups.reload(current)
            raise
        did_change = True
        return current

    retrying(attempt)
    return did_change
