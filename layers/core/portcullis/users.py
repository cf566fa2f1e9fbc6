"""End users: creation with unique guards, lookups, and the public User object (§1.3)."""

from __future__ import annotations

import uuid
from typing import Any

from portcullis import passwords, settings
from portcullis.errors import BadRequest
from portcullis.store import tenants as tenant_store
from portcullis.store import users as store
from portcullis.timefmt import now_iso

CONFLICT_MESSAGES = {
    "email": "Email already exists",
    "username": "Username already exists",
    "phoneNumber": "Phone number already exists",
    "userId": "User already exists",
}


def conflict_error(exc: store.Conflict, messages: dict[str, str] | None = None) -> BadRequest:
    return BadRequest((messages or CONFLICT_MESSAGES).get(exc.field, "User already exists"))


def new_user(
    mode: str,
    tenant_id: str,
    *,
    email: str | None = None,
    username: str | None = None,
    phone_number: str | None = None,
    name: str | None = None,
    image: str | None = None,
    data: dict[str, Any] | None = None,
    password: str | None = None,
    locked: bool = False,
    is_mfa_required: bool = False,
    is_email_confirmed: bool = False,
    roles: dict[str, list[str]] | None = None,
    user_id: int | None = None,
    user_uuid: str | None = None,
    created_at: str | None = None,
) -> store.UserItem:
    """Build (not write) a user record; the caller commits it with `store.create_user`."""
    stamp = now_iso()
    if user_id is None:
        user_id = store.allocate_user_id(mode, tenant_id)
    else:
        store.reserve_user_id(mode, tenant_id, user_id)
    return store.new_user_item(
        mode,
        tenant_id,
        user_id,
        userUuid=user_uuid or str(uuid.uuid4()),
        email=email.strip() if email else None,
        username=username,
        phoneNumber=phone_number,
        name=name or "",
        image=image,
        data={k: v for k, v in (data or {}).items() if v is not None},
        locked=locked,
        isMfaRequired=is_mfa_required,
        isEmailConfirmed=is_email_confirmed,
        confirmedEmailAt=stamp if is_email_confirmed else None,
        passwordHash=passwords.hash_password(password) if password else None,
        passwordChangedAt=stamp if password else None,
        roles={t: list(r) for t, r in (roles or {}).items() if r},
        createdAt=created_at or stamp,
        updatedAt=stamp,
    )


def create(item: store.UserItem, extra: store.Extra | None = None) -> store.UserItem:
    try:
        store.create_user(item, extra)
    except store.Conflict as exc:
        raise conflict_error(exc) from exc
    return item


def _factor_list(user: store.UserItem, flow: settings.Authentication) -> dict[str, Any]:
    """Factors this user can use now: the tenant's, limited to what the user has set up."""
    first = []
    for factor in flow.firstFactors:
        if factor.strategy == "password" and not user.passwordHash:
            continue
        if factor.channel == "sms" and not user.phoneNumber:
            continue
        if factor.channel == "email" and not user.email:
            continue
        first.append(factor.model_dump())
    return {"firstFactors": first, "secondFactors": []}


def user_json(
    user: store.UserItem,
    *,
    tenant: tenant_store.TenantItem | None = None,
    tenant_settings: settings.TenantSettings | None = None,
    role_tenants: dict[str, tenant_store.TenantItem] | None = None,
    second_factors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The User object; never a hash, secret or token."""
    tenant = tenant or tenant_store.get_tenant(user.mode, user.tenantId)
    tenant_settings = tenant_settings or settings.read(user.mode, user.tenantId)
    names = {t: (role_tenants or {}).get(t) for t in (user.roles or {})}
    for tid in names:
        if names[tid] is None:
            names[tid] = (
                tenant
                if tenant and tenant.tenantId == tid
                else tenant_store.get_tenant(user.mode, tid)
            )
    authorization = {
        tid: {
            "tenantId": tid,
            "name": names[tid].name if names[tid] else None,
            "roles": list(role_list),
        }
        for tid, role_list in sorted((user.roles or {}).items())
        if role_list
    }
    authentication = _factor_list(user, tenant_settings.authentication)
    if second_factors is not None:
        authentication["secondFactors"] = second_factors
    return {
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
        "authentication": authentication,
    }
