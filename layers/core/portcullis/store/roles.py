"""Role definitions and role assignments.

Definitions live in the tenant's partition (`TENANT#{mode}#{tenantId}` / `ROLE#{name}`,
the `RoleItem` of store/tenants.py). Assignments mirror the user record's `roles` map
so that the holders of a role can be found from the tenant side:

- assignment: pk `ASSIGN#{mode}#{roleTenantId}`, sk `USER#{userTenantId}#{userId:012d}`,
  holding the user's role names in that tenant.

An assignment is always written in the same transaction as the user record whose
`roles` map it mirrors (store.users.Extra), so the two never disagree. Deleting a role
or a tenant reads one partition to find every holder, never the users table.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from portcullis.store.base import Item, condition_held, connection, owned_item, tenant_pk
from portcullis.store.tenants import RoleItem, role_sk
from portcullis.store.users import UserItem


class AssignmentItem(Item):
    mode = UnicodeAttribute()
    tenantId = UnicodeAttribute()  # the tenant the roles are held in
    userTenantId = UnicodeAttribute()  # the tenant that owns the user record
    userId = NumberAttribute()
    userUuid = UnicodeAttribute()
    # pynamodb types `of` as the element type itself (right only for lists of MapAttribute):
    # the elements here are the str values of UnicodeAttribute.
    roles: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    updatedAt = UnicodeAttribute()


class RoleExists(Exception):
    pass


class RoleMissing(Exception):
    pass


def assignments_pk(mode: str, tenant_id: str) -> str:
    return f"ASSIGN#{mode}#{tenant_id}"


def assignment_sk(user_tenant_id: str, user_id: int) -> str:
    return f"USER#{user_tenant_id}#{int(user_id):012d}"


def assignment_item(
    mode: str,
    tenant_id: str,
    *,
    user_tenant_id: str,
    user_id: int,
    user_uuid: str,
    roles: list[str],
    updated_at: str,
) -> AssignmentItem:
    return owned_item(
        AssignmentItem,
        assignment_sk(user_tenant_id, user_id),
        "assignment",
        pk=assignments_pk(mode, tenant_id),
        mode=mode,
        tenant_id=tenant_id,
        userTenantId=user_tenant_id,
        userId=int(user_id),
        userUuid=user_uuid,
        roles=list(roles),
        updatedAt=updated_at,
    )


def assignment_key(mode: str, tenant_id: str, user_tenant_id: str, user_id: int) -> AssignmentItem:
    """Just the key, for deleting an assignment inside a transaction."""
    return AssignmentItem(assignments_pk(mode, tenant_id), assignment_sk(user_tenant_id, user_id))


def assignment_of(user: UserItem, role_tenant_id: str) -> AssignmentItem:
    """The assignment that mirrors the user's roles in `role_tenant_id`, as the record
    holds them now (write it in the same transaction as the record)."""
    return assignment_item(
        user.mode,
        role_tenant_id,
        user_tenant_id=user.tenantId,
        user_id=int(user.userId),
        user_uuid=user.userUuid,
        roles=list((user.roles or {}).get(role_tenant_id) or []),
        updated_at=user.updatedAt,
    )


def assignments_of(user: UserItem) -> list[AssignmentItem]:
    """One assignment per tenant the user holds roles in (a new user's transaction)."""
    return [assignment_of(user, tid) for tid, names in (user.roles or {}).items() if names]


def assignment_keys_of(user: UserItem) -> list[AssignmentItem]:
    """The keys of the user's assignments (deleted with the user, in one transaction)."""
    return [
        assignment_key(user.mode, tid, user.tenantId, int(user.userId))
        for tid, names in (user.roles or {}).items()
        if names
    ]


def delete_assignment(mode: str, tenant_id: str, user_tenant_id: str, user_id: int) -> None:
    """Remove one assignment on its own: one whose user is gone, or being cleaned up."""
    assignment_key(mode, tenant_id, user_tenant_id, user_id).delete()


def holders(mode: str, tenant_id: str, role_name: str | None = None) -> list[AssignmentItem]:
    """Assignments in a tenant (one partition Query), optionally of one role only."""
    items = AssignmentItem.query(assignments_pk(mode, tenant_id))
    if role_name is None:
        return list(items)
    return [item for item in items if role_name in (item.roles or [])]


def create_role(item: RoleItem) -> None:
    if not condition_held(item.save, condition=RoleItem.pk.does_not_exist()):
        raise RoleExists


def delete_role(mode: str, tenant_id: str, name: str, extra: list[Item]) -> None:
    """Remove a definition together with `extra` items (the holders' clean-up task).

    RoleMissing when there is no such role; nothing is written then.
    """
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(
                RoleItem(tenant_pk(mode, tenant_id), role_sk(name)),
                condition=RoleItem.pk.exists(),
            )
            for item in extra:
                tx.save(item)
    except TransactWriteError as exc:
        # Only the definition's delete carries a condition.
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if "ConditionalCheckFailed" in reasons:
            raise RoleMissing from exc
        raise
