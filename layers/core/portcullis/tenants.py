"""Tenants: the workspace and its nested child tenants (api-server §1.5, §8)."""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Any

from portcullis import settings as tenant_settings
from portcullis import tokens
from portcullis.errors import BadRequest, NotFound
from portcullis.roles import DEFAULT_ROLES
from portcullis.store import apikeys as key_store
from portcullis.store import tenants as store
from portcullis.store.base import Item
from portcullis.timefmt import now_iso

_ALPHABET = string.ascii_lowercase + string.digits
CHILDREN_PAGE = 50


def new_tenant_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


def merge_data(stored: dict[str, Any], change: dict[str, Any] | None) -> dict[str, Any]:
    """Shallow merge: sent keys replace, `null` removes, unsent keys stay (api-server §1.4)."""
    merged = dict(stored or {})
    for key, value in (change or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


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
            data=merge_data({}, data),
            parentTenantId=parent.tenantId if parent else None,
            ancestors=[parent.tenantId, *parent.ancestors] if parent else [],
            childCount=0,
            descendantCount=0,
            createdAt=created,
            updatedAt=created,
        )
        roles = store.role_items(mode, tid, list(DEFAULT_ROLES), created)
        signing_key = tokens.new_signing_key_item(tid, mode)
        try:
            store.create_tenant(item, roles, [signing_key, *(extra or [])])
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


def tenant_json(item: store.TenantItem) -> dict[str, Any]:
    """The full Tenant object (api-server §1.5), read from the tenant's own partition."""
    parent = store.get_tenant(item.mode, item.parentTenantId) if item.parentTenantId else None
    children = store.first_children(item.mode, item.tenantId, CHILDREN_PAGE)
    total_children = int(item.childCount or 0)
    settings = tenant_settings.read(item.mode, item.tenantId)
    roles = store.list_roles(item.mode, item.tenantId)
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
        "children": {
            "totalCount": total_children,
            "totalPages": -(-total_children // CHILDREN_PAGE),
            "results": [summary(child) for child in children],
        },
        "roles": [{"name": role.name} for role in roles],
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


def update(item: store.TenantItem, changes: dict[str, Any]) -> store.TenantItem:
    fields: dict[str, Any] = {}
    if "name" in changes:
        fields["name"] = changes["name"]
    if "image" in changes:
        fields["image"] = changes["image"]
    if "data" in changes:
        fields["data"] = merge_data(item.data or {}, changes["data"])
    if not fields:
        raise BadRequest("At least one field is required")
    fields["updatedAt"] = now_iso()
    return store.update_tenant(item, fields)


def delete(item: store.TenantItem, caller_home: str) -> dict[str, Any]:
    if item.tenantId == caller_home:
        raise BadRequest("Cannot delete the tenant that owns this API key")
    if int(item.childCount or 0) > 0:
        raise BadRequest("Delete child tenants first")
    before = tenant_json(item)
    try:
        store.delete_tenant(item)
    except Exception as exc:
        fresh = store.get_tenant(item.mode, item.tenantId)
        if fresh is None:
            raise NotFound("Tenant not found") from exc
        if int(fresh.childCount or 0) > 0:
            raise BadRequest("Delete child tenants first") from exc
        raise
    store.purge_partition(item.mode, item.tenantId)
    key_store.delete_tenant_keys(item.mode, item.tenantId)
    tokens.forget(item.tenantId, item.mode)
    return before


def children(mode: str, parent_id: str) -> list[dict[str, Any]]:
    return [summary(child) for child in store.list_children(mode, parent_id)]
