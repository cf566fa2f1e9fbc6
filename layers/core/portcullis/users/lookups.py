"""Finding one user: by the `{userId}` of a path (integer id or UUID), by whichever
identifier a body names, again after a write raced (`reload`), and the §9.8 rule for
the user whose roles are set."""

from __future__ import annotations

import re

from portcullis.platform.errors import NotFound
from portcullis.platform.identifiers import UUID
from portcullis.store import users as store

USER_NOT_FOUND = "User not found"

_PATH_INT = re.compile(r"^[1-9][0-9]{0,15}$")


def get_by_path_id(mode: str, tenant_id: str, raw_id: str) -> store.UserItem:
    """A user of the tenant+mode by `{userId}` path value: integer userId or userUuid
    (either case; stored lowercase).

    Anything else, and any id of another tenant or mode, is 404 `User not found`.
    """
    value = (raw_id or "").strip()
    user = None
    if _PATH_INT.match(value):
        user = store.get_user(mode, tenant_id, int(value), consistent=True)
    elif UUID.match(value):
        user = store.get_by_uuid(mode, tenant_id, value.lower())
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user


def for_roles(mode: str, home_tenant_id: str, role_tenant_id: str, raw_id: str) -> store.UserItem:
    """§9.8: the user whose roles in `role_tenant_id` are set is looked up among the
    credential's home tenant's users first, then among users owned by the role's tenant
    (users normally live in the workspace while holding roles in child tenants)."""
    owners = [home_tenant_id]
    if role_tenant_id != home_tenant_id:
        owners.append(role_tenant_id)
    for owner in owners:
        try:
            return get_by_path_id(mode, owner, raw_id)
        except NotFound:
            continue
    raise NotFound(USER_NOT_FOUND)


def lookup(
    mode: str,
    tenant_id: str,
    *,
    email: str | None = None,
    user_id: int | None = None,
    user_uuid: str | None = None,
) -> store.UserItem | None:
    """One indexed read by whichever identifier is given (userId, then uuid, then email)."""
    if user_id is not None:
        return store.get_user(mode, tenant_id, int(user_id), consistent=True)
    if user_uuid is not None:
        return store.get_by_uuid(mode, tenant_id, user_uuid.strip().lower())
    if email is not None:
        return store.get_by_unique(mode, tenant_id, "email", email)
    return None


def reload(user: store.UserItem) -> store.UserItem:
    """The record as committed now (after a concurrent change made a write fail)."""
    fresh = store.get_user(user.mode, user.tenantId, int(user.userId), consistent=True)
    if fresh is None:
        raise NotFound(USER_NOT_FOUND)
    return fresh
