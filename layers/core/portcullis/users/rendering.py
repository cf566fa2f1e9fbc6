"""The public User object (api-server §1.3) and the `user.<action>` webhook event that
carries it: what every endpoint answers about a user, rendered in one place. Never a
hash, secret or token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portcullis.messaging import outbox
from portcullis.store import tenants as tenant_store
from portcullis.store import users as store
from portcullis.tenancy import settings
from portcullis.users import factors


@dataclass
class Renderer:
    """Renders many users of one tenant with one read of the tenant and its settings,
    and one read per distinct tenant that appears in their `authorization`."""

    tenant: tenant_store.TenantItem | None
    tenant_settings: settings.TenantSettings
    role_tenants: dict[str, tenant_store.TenantItem | None] = field(default_factory=dict)

    @classmethod
    def for_tenant(
        cls, mode: str, tenant_id: str, tenant: tenant_store.TenantItem | None = None
    ) -> Renderer:
        tenant = tenant or tenant_store.get_tenant(mode, tenant_id)
        renderer = cls(tenant, settings.read(mode, tenant_id))
        if tenant is not None:
            renderer.role_tenants[tenant.tenantId] = tenant
        return renderer

    def __call__(self, user: store.UserItem) -> dict[str, Any]:
        return user_json(
            user,
            tenant=self.tenant,
            tenant_settings=self.tenant_settings,
            role_tenants=self.role_tenants,
        )


def user_json(
    user: store.UserItem,
    *,
    tenant: tenant_store.TenantItem | None = None,
    tenant_settings: settings.TenantSettings | None = None,
    role_tenants: dict[str, tenant_store.TenantItem | None] | None = None,
) -> dict[str, Any]:
    """The User object; never a hash, secret or token.

    `role_tenants` is a cache shared across calls: tenants looked up for the
    `authorization` names are added to it.
    """
    tenant = tenant or tenant_store.get_tenant(user.mode, user.tenantId)
    tenant_settings = tenant_settings or settings.read(user.mode, user.tenantId)
    cache = role_tenants if role_tenants is not None else {}
    if tenant is not None:
        cache.setdefault(tenant.tenantId, tenant)
    authorization = {}
    for tid, role_list in sorted((user.roles or {}).items()):
        if not role_list:
            continue
        if tid not in cache:
            cache[tid] = tenant_store.get_tenant(user.mode, tid)
        role_tenant = cache[tid]
        authorization[tid] = {
            "tenantId": tid,
            "name": role_tenant.name if role_tenant else None,
            "roles": list(role_list),
        }
    rendered = {
        "mode": user.mode,
        "tenantId": user.tenantId,
        "userId": int(user.userId),
        "userUuid": user.userUuid,
        "uuid": user.userUuid,
        "email": user.email,
        "username": user.username,
        "name": user.name or "",
        "image": user.image,
        "phoneNumber": user.phoneNumber,
        "data": user.data or {},
        "locked": bool(user.locked),
        "isMfaRequired": bool(user.isMfaRequired),
        "preferredFirstFactor": user.preferredFirstFactor,
        "preferredSecondFactor": user.preferredSecondFactor,
        "isEmailConfirmed": bool(user.isEmailConfirmed),
        "isPhoneNumberConfirmed": bool(user.isPhoneNumberConfirmed),
        "isConfirmed": bool(user.isEmailConfirmed),
        "confirmedEmailAt": user.confirmedEmailAt,
        "confirmedPhoneNumberAt": user.confirmedPhoneNumberAt,
        "lastActiveAt": user.lastActiveAt,
        "lastMessagedAt": user.lastMessagedAt,
        "createdAt": user.createdAt,
        "updatedAt": user.updatedAt,
        "tenant": {
            "tenantId": user.tenantId,
            "aliasId": tenant.aliasId if tenant else None,
            "name": tenant.name if tenant else None,
            "image": tenant.image if tenant else None,
            "loginRedirectPath": tenant_settings.loginRedirectPath,
            "logoutRedirectPath": tenant_settings.logoutRedirectPath,
        },
        "authorization": authorization,
        "authentication": factors.authentication(user, tenant_settings.authentication),
    }
    status = email_status(user)
    if status is not None:
        rendered["emailStatus"] = status
    return rendered


def email_status(user: store.UserItem) -> dict[str, Any] | None:
    """`emailStatus` (extension, docs/users.md): `{status, at}` once SES reported the
    user's address as bounced or complained; absent otherwise, and again once the user
    has another address (the status belongs to the address it was reported for)."""
    status = user.emailStatus
    if not isinstance(status, dict) or not user.email:
        return None
    if str(status.get("email", "")).lower() != user.email.strip().lower():
        return None
    return {"status": status.get("status"), "at": status.get("at")}


def _ancestors(renderer: Renderer) -> list[str]:
    return list(renderer.tenant.ancestors) if renderer.tenant else []


def event_item(
    action: str,
    user: store.UserItem,
    renderer: Renderer | None = None,
    record: dict[str, Any] | None = None,
) -> store.Item:
    """The `user.<action>` webhook event for the user as it is now, or as `record`
    already rendered it (a deletion announces the user as it was); add it to the write."""
    renderer = renderer or Renderer.for_tenant(user.mode, user.tenantId)
    return outbox.event_item(
        action,
        "user",
        user.mode,
        record if record is not None else renderer(user),
        tenant_id=user.tenantId,
        ancestor_tenant_ids=_ancestors(renderer),
    )
