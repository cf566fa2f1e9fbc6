"""Tenant records, their role definitions and settings overrides (one partition per tenant+mode)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from portcullis.store.base import Gsi1, Item, connection, find, owned_item, read_page, tenant_pk

TENANT_SK = "TENANT"
SETTINGS_SK = "SETTINGS"
ROLE_PREFIX = "ROLE#"


class TenantItem(Item):
    """A tenant in one mode. `ancestors` lists every ancestor, nearest first, for scope checks."""

    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    uuid = UnicodeAttribute()
    name = UnicodeAttribute()
    image = UnicodeAttribute(null=True)
    aliasId = UnicodeAttribute(null=True)
    data = JSONAttribute(default=dict)
    parentTenantId = UnicodeAttribute(null=True)
    # pynamodb types `of` as the element type itself (right only for lists of MapAttribute):
    # the elements here are the str values of UnicodeAttribute.
    ancestors: ListAttribute[str] = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    childCount = NumberAttribute(default=0)
    descendantCount = NumberAttribute(default=0)
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    lastActiveAt = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    children_index: Gsi1[TenantItem] = Gsi1()


class RoleItem(Item):
    """A role name defined in a tenant; `position` keeps creation order."""

    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    name = UnicodeAttribute()
    position = NumberAttribute()
    createdAt = UnicodeAttribute()


class SettingsItem(Item):
    """Only the settings a tenant changed; defaults are merged in on read."""

    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    overrides = JSONAttribute(default=dict)
    updatedAt = UnicodeAttribute()


class TenantExists(Exception):
    """The random tenant id collided; the caller draws another."""


def get_tenant(mode: str, tenant_id: str) -> TenantItem | None:
    return find(TenantItem, tenant_pk(mode, tenant_id), TENANT_SK)


def new_tenant_item(**fields: Any) -> TenantItem:
    item = TenantItem(
        tenant_pk(fields["mode"], fields["tenantId"]), TENANT_SK, type="tenant", **fields
    )
    if item.parentTenantId:
        item.gsi1pk = f"CHILDREN#{item.mode}#{item.parentTenantId}"
        item.gsi1sk = f"{item.createdAt}#{item.tenantId}"
    return item


def role_sk(name: str) -> str:
    return f"{ROLE_PREFIX}{name}"


def new_role_item(mode: str, tenant_id: str, name: str, position: int, created_at: str) -> RoleItem:
    """A role definition in the tenant's partition (not written; see `store.roles.create_role`)."""
    return owned_item(
        RoleItem,
        role_sk(name),
        "role",
        mode=mode,
        tenant_id=tenant_id,
        name=name,
        position=position,
        createdAt=created_at,
    )


def role_items(mode: str, tenant_id: str, names: list[str], created_at: str) -> list[RoleItem]:
    """A new tenant's role definitions, in the order given."""
    return [
        new_role_item(mode, tenant_id, name, index, created_at) for index, name in enumerate(names)
    ]


def create_tenant(tenant: TenantItem, roles: list[RoleItem], extra: Sequence[Item] = ()) -> None:
    """Write the tenant, its roles and bump every ancestor's counters in one transaction."""
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(tenant, condition=TenantItem.pk.does_not_exist())
            for role in roles:
                tx.save(role)
            for item in extra:
                tx.save(item)
            for depth, ancestor_id in enumerate(tenant.ancestors):
                actions: list[Action] = [TenantItem.descendantCount.add(1)]
                if depth == 0:
                    actions.append(TenantItem.childCount.add(1))
                tx.update(
                    TenantItem(tenant_pk(tenant.mode, ancestor_id), TENANT_SK),
                    actions=actions,
                    condition=TenantItem.pk.exists(),
                )
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise TenantExists from exc
        raise


class TenantChanged(Exception):
    """The tenant was updated since it was read (its `updatedAt` moved); reload, retry."""


class TenantGone(Exception):
    """The tenant no longer exists."""


def update_tenant(
    tenant: TenantItem, fields: dict[str, Any], extra: list[Item] | None = None
) -> TenantItem:
    """Set `fields` if the tenant is as it was read, with `extra` items (its webhook
    event) in the same transaction. Counter updates from child tenants do not touch
    `updatedAt`, so they never make this fail."""
    actions = [getattr(TenantItem, key).set(value) for key, value in fields.items()]
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(
                TenantItem(tenant.pk, tenant.sk),
                actions=actions,
                condition=TenantItem.pk.exists() & (TenantItem.updatedAt == tenant.updatedAt),
            )
            for item in extra or []:
                tx.save(item)
    except TransactWriteError as exc:
        # Only the tenant update carries a condition (the extra items are plain puts,
        # which pynamodb sends first), so any failed condition is the tenant's.
        reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
        if "ConditionalCheckFailed" in reasons:
            if get_tenant(tenant.mode, tenant.tenantId) is None:
                raise TenantGone from exc
            raise TenantChanged from exc
        raise
    for key, value in fields.items():
        setattr(tenant, key, value)
    return tenant


def list_children(mode: str, parent_id: str) -> list[TenantItem]:
    return list(TenantItem.children_index.query(f"CHILDREN#{mode}#{parent_id}"))


def read_children(
    mode: str, parent_id: str, *, after: str | None, limit: int
) -> tuple[list[TenantItem], str | None]:
    """At most `limit` direct children in creation order, starting after the child whose
    index key (`createdAt#tenantId`) is `after`, and the index key to continue after
    (None when none are left). Reads one item more than it returns."""
    start = None
    if after is not None:
        child_id = after.rpartition("#")[2]
        start = {
            "gsi1pk": {"S": f"CHILDREN#{mode}#{parent_id}"},
            "gsi1sk": {"S": after},
            "pk": {"S": tenant_pk(mode, child_id)},
            "sk": {"S": TENANT_SK},
        }
    children = TenantItem.children_index.query
    page, last = read_page(children, f"CHILDREN#{mode}#{parent_id}", limit=limit, start=start)
    return page, None if last is None else str(last.gsi1sk)


def first_children(mode: str, parent_id: str, limit: int) -> list[TenantItem]:
    return list(TenantItem.children_index.query(f"CHILDREN#{mode}#{parent_id}", limit=limit))


def list_roles(mode: str, tenant_id: str) -> list[RoleItem]:
    items = RoleItem.query(tenant_pk(mode, tenant_id), RoleItem.sk.startswith(ROLE_PREFIX))
    return sorted(items, key=lambda r: (r.position, r.createdAt, r.name))


def get_settings(mode: str, tenant_id: str) -> dict[str, Any]:
    try:
        return dict(SettingsItem.get(tenant_pk(mode, tenant_id), SETTINGS_SK).overrides or {})
    except DoesNotExist:
        return {}


def put_settings(mode: str, tenant_id: str, overrides: dict[str, Any], updated_at: str) -> None:
    owned_item(
        SettingsItem,
        SETTINGS_SK,
        "settings",
        mode=mode,
        tenant_id=tenant_id,
        overrides=overrides,
        updatedAt=updated_at,
    ).save()


def partition_keys(mode: str, tenant_id: str) -> list[tuple[str, str]]:
    """Every (pk, sk) in the tenant's own partition, for deletion."""
    return [(item.pk, item.sk) for item in Item.query(tenant_pk(mode, tenant_id))]


def delete_tenant(tenant: TenantItem, extra: list[Item] | None = None) -> None:
    """Remove the tenant record and decrement its ancestors' counters atomically, with
    `extra` items (its webhook event and clean-up task) in the same transaction.

    The rest of the partition (roles, settings, keys) is removed afterwards by
    `purge_partition`; once the record is gone nothing can address those items.
    """
    with TransactWrite(connection=connection()) as tx:
        tx.delete(tenant, condition=TenantItem.childCount == 0)
        for item in extra or []:
            tx.save(item)
        for depth, ancestor_id in enumerate(tenant.ancestors):
            actions: list[Action] = [TenantItem.descendantCount.add(-1)]
            if depth == 0:
                actions.append(TenantItem.childCount.add(-1))
            tx.update(
                TenantItem(tenant_pk(tenant.mode, ancestor_id), TENANT_SK),
                actions=actions,
                condition=TenantItem.pk.exists(),
            )


def purge_partition(mode: str, tenant_id: str) -> None:
    with Item.batch_write() as batch:
        for pk, sk in partition_keys(mode, tenant_id):
            batch.delete(Item(pk, sk))
