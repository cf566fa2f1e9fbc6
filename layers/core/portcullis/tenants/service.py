"""Tenants: the workspace and its nested child tenants (api-server §1.5, §8)."""

from __future__ import annotations

import secrets
import string
import uuid
from typing import TYPE_CHECKING, Any

from portcullis.access.roles import DEFAULT_ROLES
from portcullis.messaging import outbox, senders
from portcullis.platform import config
from portcullis.platform.customdata import check_data_size, merge_data
from portcullis.platform.errors import BadRequest, NotFound, TooManyRequests
from portcullis.platform.timefmt import now_iso
from portcullis.search import query as search
from portcullis.search.envelope import list_envelope
from portcullis.store import apikeys as key_store
from portcullis.store import tenants as store
from portcullis.store.base import Item
from portcullis.tenancy import parentlimits
from portcullis.tenancy import settings as tenant_settings
from portcullis.tenancy import state as tenantstate
from portcullis.tokens import signing as tokens
from portcullis.users import cleanup as user_cleanup
from portcullis.webhooks import targets as webhook_targets

if TYPE_CHECKING:
    from portcullis.access.callers import Caller

_ALPHABET = string.ascii_lowercase + string.digits
CHILDREN_PAGE = 50


def new_tenant_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


def create(
    mode: str,
    name: str,
    *,
    image: str | None = None,
    data: dict[str, Any] | None = None,
    parent: store.TenantItem | None = None,
    tenant_id: str | None = None,
    extra: list[Item] | None = None,
) -> store.TenantItem:
    """Create a tenant with the default roles and its own JWT signing key for `mode`.

    A random id that collides is redrawn; an explicit `tenant_id` (workspace bootstrap
    of the second mode) is not.
    """
    for _attempt in range(5):
        tid = tenant_id or new_tenant_id()
        created = now_iso()
        item = store.new_tenant_item(
            tenantId=tid,
            mode=mode,
            uuid=str(uuid.uuid4()),
            name=name,
            image=image,
            data=_sized(merge_data({}, data)),
            parentTenantId=parent.tenantId if parent else None,
            ancestors=[parent.tenantId, *parent.ancestors] if parent else [],
            childCount=0,
            descendantCount=0,
            createdAt=created,
            updatedAt=created,
        )
        roles = store.role_items(mode, tid, list(DEFAULT_ROLES), created)
        signing_key = tokens.new_signing_key_item(tid, mode)
        event = _event("create", item, tenant_json(item, roles=list(DEFAULT_ROLES)))
        try:
            store.create_tenant(item, roles, [signing_key, event, *(extra or [])])
        except store.TenantExists:
            if tenant_id:
                raise BadRequest("Tenant already exists") from None
            continue
        return item
    raise BadRequest("Could not allocate a tenant id, please retry")


def summary(item: store.TenantItem) -> dict[str, Any]:
    return {
        "tenantId": item.tenantId,
        "uuid": item.uuid,
        "name": item.name,
        "image": item.image,
        "type": "basic",
        "data": item.data or {},
        "mode": item.mode,
        "parentTenantId": item.parentTenantId,
        "createdAt": item.createdAt,
        "updatedAt": item.updatedAt,
    }


def _event(action: str, item: store.TenantItem, record: dict[str, Any]) -> Item:
    """The `tenant.<action>` webhook event, written in the same transaction as the change."""
    return outbox.event_item(
        action,
        "tenant",
        item.mode,
        record,
        tenant_id=item.tenantId,
        ancestor_tenant_ids=list(item.ancestors or []),
    )


def tenant_json(item: store.TenantItem, *, roles: list[str] | None = None) -> dict[str, Any]:
    """The full Tenant object (api-server §1.5), read from the tenant's own partition.

    `roles` skips reading the role definitions: a tenant being created has none
    stored yet when its `tenant.create` event is built.
    """
    parent = store.get_tenant(item.mode, item.parentTenantId) if item.parentTenantId else None
    children = store.first_children(item.mode, item.tenantId, CHILDREN_PAGE)
    total_children = int(item.childCount or 0)
    settings = tenant_settings.read(item.mode, item.tenantId)
    role_names = (
        list(roles)
        if roles is not None
        else [role.name for role in store.list_roles(item.mode, item.tenantId)]
    )
    descendants = int(item.descendantCount or 0)
    return {
        "tenantId": item.tenantId,
        "uuid": item.uuid,
        "aliasId": item.aliasId,
        "name": item.name,
        "type": "basic",
        "image": item.image,
        "data": item.data or {},
        "mode": item.mode,
        "parent": (
            {
                "tenantId": parent.tenantId,
                "name": parent.name,
                "image": parent.image,
                "mode": parent.mode,
            }
            if parent
            else None
        ),
        "children": list_envelope(
            [summary(child) for child in children], total_children, 1, CHILDREN_PAGE, meta=False
        ),
        "roles": [{"name": name} for name in role_names],
        "descendantCount": {
            "descendants": descendants,
            "children": total_children,
            "basic": descendants,
            "multiuser": 0,
            "enterprise": 0,
        },
        "creator": None,
        "lastActiveAt": item.lastActiveAt,
        "createdAt": item.createdAt,
        "updatedAt": item.updatedAt,
        "signupRedirectPath": settings.afterSignupPath,
        "loginRedirectPath": settings.loginRedirectPath,
        "logoutRedirectPath": settings.logoutRedirectPath,
        "passwordResetPath": settings.resetPasswordPath,
        "accessTokenDuration": settings.accessTokenDuration,
        "refreshTokenDuration": settings.refreshTokenDuration,
        "isPhoneNumberUnique": True,
        "cookieOptionsSameSite": "Lax",
        "cookieOptionsPath": "/",
        "cookieOptionsSetDomain": False,
        "allowNonHttpOnlyRefresh": True,
        "userCreatedWebhookUrl": None,
        "userUpdatedWebhookUrl": None,
        "userDeletedWebhookUrl": None,
        "tenantCreatedWebhookUrl": None,
        "tenantUpdatedWebhookUrl": None,
        "tenantDeletedWebhookUrl": None,
        "hasActivatedLiveMode": bool(settings.liveDomains),
        "details": {},
        "brand": {},
        "providerOrder": [],
        "pkceLoginRedirectUri": None,
        "verificationCodeSmsWebhookUrl": None,
        "verificationCodeEmailWebhookUrl": None,
        "linkEmailWebhookUrl": None,
        "dataRetentionMonths": 24,
        "dataForParent": {},
        "dataForParentSchema": {},
        "previousAuthService": None,
    }


def _sized(data: dict[str, Any]) -> dict[str, Any]:
    check_data_size(data)
    return data


def _copy(item: store.TenantItem) -> store.TenantItem:
    copy = store.TenantItem()
    copy.deserialize(item.serialize())
    return copy


def update(item: store.TenantItem, changes: dict[str, Any]) -> store.TenantItem:
    """Apply name/image/data and fire `tenant.update` in one transaction; a concurrent
    update makes this re-read the tenant and re-apply the change (data merges)."""
    if not any(key in changes for key in ("name", "image", "data")):
        raise BadRequest("At least one field is required")
    current = item
    for _attempt in range(5):
        fields: dict[str, Any] = {}
        if "name" in changes:
            if not isinstance(changes["name"], str):
                raise BadRequest('"name" must be a string')  # a tenant always has a name
            fields["name"] = changes["name"]
        if "image" in changes:
            fields["image"] = changes["image"]
        if "data" in changes:
            fields["data"] = _sized(merge_data(current.data or {}, changes["data"]))
        fields["updatedAt"] = now_iso()
        after = _copy(current)
        for key, value in fields.items():
            setattr(after, key, value)
        try:
            return store.update_tenant(
                current, fields, [_event("update", after, tenant_json(after))]
            )
        except store.TenantGone:
            raise NotFound("Tenant not found") from None
        except store.TenantChanged:
            fresh = store.get_tenant(item.mode, item.tenantId)
            if fresh is None:
                raise NotFound("Tenant not found") from None
            current = fresh
    raise TooManyRequests("Too many concurrent changes to this tenant, please retry", retry_after=1)


def delete(item: store.TenantItem, caller_home: str) -> dict[str, Any]:
    if item.tenantId == caller_home:
        raise BadRequest("Cannot delete the tenant that owns this API key")
    if int(item.childCount or 0) > 0:
        raise BadRequest("Delete child tenants first")
    before = tenant_json(item)
    # The clean-up of role assignments and owned users is queued with the deletion, so
    # it runs (and is retried) even if this request dies right after the commit.
    cleanup = outbox.task_item(
        "tenant.cleanup",
        {"mode": item.mode, "tenant_id": item.tenantId},
        mode=item.mode,
        tenant_id=item.tenantId,
    )
    try:
        store.delete_tenant(item, [_event("delete", item, before), cleanup])
    except Exception as exc:
        fresh = store.get_tenant(item.mode, item.tenantId)
        if fresh is None:
            raise NotFound("Tenant not found") from exc
        if int(fresh.childCount or 0) > 0:
            raise BadRequest("Delete child tenants first") from exc
        raise
    _purge(item.mode, item.tenantId)  # at once; the queued clean-up repeats it
    return before


def _purge(mode: str, tenant_id: str) -> None:
    """The deleted tenant's own items (settings, roles, JWT keys) and its API keys."""
    store.purge_partition(mode, tenant_id)
    key_store.delete_tenant_keys(mode, tenant_id)
    tokens.forget(tenant_id, mode)


def cleanup_deleted(mode: str, tenant_id: str) -> None:
    """The queued `tenant.cleanup` task: users and role assignments, then the tenant's
    own items again, so nothing stays behind if the deleting request died after its
    commit. Retried until it completes; every step is idempotent."""
    user_cleanup.cleanup_deleted_tenant(mode, tenant_id)
    _purge(mode, tenant_id)


def children(mode: str, parent_id: str) -> list[dict[str, Any]]:
    return [summary(child) for child in store.list_children(mode, parent_id)]


def children_window(
    mode: str, parent_id: str, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A bounded window of the direct children (summaries) and where the next one starts:
    a tenant search reads at most `limit` children per request (docs/search.md)."""
    items, position = store.read_children(mode, parent_id, after=after, limit=limit)
    return [summary(child) for child in items], position


def search_children(mode: str, parent_id: str, body: Any) -> dict[str, Any]:
    """`POST .../tenants/find` (api-server §8): the direct children matching the search
    `body`, ordered and paged, in the list envelope with `meta`. One bounded window of
    children is read per request; when it stopped before the last child, `meta` carries
    the continuation of the next window (docs/search.md)."""
    request = search.parse_search_request(body, search.TENANT_CATALOG)
    window, position = children_window(mode, parent_id, request.after, config.search_scan_limit())
    matches = [child for child in window if request.matches(child, {})]
    page, total = search.order_and_page(matches, request)
    token = None if position is None else search.continuation_token(position)
    return list_envelope(page, total, request.page, request.limit, continuation=token)


def read_settings(mode: str, tenant: store.TenantItem) -> dict[str, Any]:
    """The tenant's settings as they apply: its own, with rate limits clamped by its
    parent's (docs/settings.md)."""
    own = tenant_settings.read(mode, tenant.tenantId)
    return tenant_settings.as_json(tenantstate.effective(mode, tenant, own))


def update_settings(caller: Caller, tenant: store.TenantItem, change: Any) -> dict[str, Any]:
    """Apply a settings patch: the sender address only as its workspace allows, rate
    limits never above the parent's; answers the settings as they now apply."""
    senders.check_settings_change(caller, tenant, change)
    parentlimits.check(caller.mode, tenant, change)
    webhook_targets.check_settings_change(caller.mode, change)  # shape, mode rules, DNS
    stored = tenant_settings.update(caller.mode, tenant.tenantId, change)
    # This instance's tenant cache sees the change at once (children clamp against it).
    remembered = tenantstate.remember(caller.mode, tenant, tenant_settings.as_json(stored))
    return tenant_settings.as_json(remembered.settings)
