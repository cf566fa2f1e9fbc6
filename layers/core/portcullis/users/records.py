"""Building a user record in memory (not writing it): the one place that decides what a
new user holds, shared by the server API, sign-ups, invitations and seed users.

Emails are stored lowercase (api-server §1.3) so that every comparison, index key and
guard agrees. Commit a built record with `users.service.create`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from portcullis.credentials import passwords
from portcullis.platform.timefmt import now_iso
from portcullis.store import tenants as tenant_store
from portcullis.store import users as store

# The records a user operation takes and returns, named for the layers above (the
# functions), which never import `store/` themselves.
User = store.UserItem
Tenant = tenant_store.TenantItem


def normalise_email(email: str | None) -> str | None:
    return email.strip().lower() if email else None


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
    password_hash: str | None = None,
    id_reserved: bool = False,
) -> store.UserItem:
    """Build (not write) a user record; commit it with `users.service.create`.

    A userId is allocated (or an explicit one reserved) now, so the record is complete;
    `password_hash` takes an already-hashed password (imports). `id_reserved`: the
    caller already took `user_id` from the sequence (an import chunk allocates its
    creations' ids in one call).
    """
    stamp = now_iso()
    if user_id is None:
        user_id = store.allocate_user_id(mode, tenant_id)
    elif not id_reserved:
        store.reserve_user_id(mode, tenant_id, user_id)
    hashed = password_hash or (passwords.hash_password(password) if password else None)
    return store.new_user_item(
        mode,
        tenant_id,
        user_id,
        userUuid=user_uuid or str(uuid.uuid4()),
        email=normalise_email(email),
        username=username,
        phoneNumber=phone_number,
        name=name or "",
        image=image,
        data={k: v for k, v in (data or {}).items() if v is not None},
        locked=locked,
        isMfaRequired=is_mfa_required,
        isEmailConfirmed=is_email_confirmed,
        confirmedEmailAt=stamp if is_email_confirmed else None,
        passwordHash=hashed,
        passwordChangedAt=stamp if hashed else None,
        roles={t: list(r) for t, r in (roles or {}).items() if r},
        createdAt=created_at or stamp,
        updatedAt=stamp,
    )


def writable(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`new_user`'s keyword arguments for the writable fields of §1.4 under their wire
    names: a validated server API body, or an import row."""
    return {
        "email": fields.get("email"),
        "username": fields.get("username"),
        "phone_number": fields.get("phoneNumber"),
        "name": fields.get("name"),
        "image": fields.get("image"),
        "data": fields.get("data"),
        "password": fields.get("password"),
        "locked": bool(fields.get("locked") or False),
        "is_mfa_required": bool(fields.get("isMfaRequired") or False),
        "is_email_confirmed": bool(fields.get("isEmailConfirmed") or False),
    }
