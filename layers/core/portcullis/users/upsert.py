"""createOrUpdate (api-server §7.7): update the user named by `userId`/`userUuid` if it
exists, else create one keeping the given identifiers. Never matches by email."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portcullis.platform.errors import BadRequest
from portcullis.store import tenants as tenant_store
from portcullis.store import users as store
from portcullis.users.conflicts import CONFLICT_MESSAGES
from portcullis.users.service import register, update


def create_or_update(
    mode: str, tenant: tenant_store.TenantItem, fields: Mapping[str, Any]
) -> store.UserItem:
    """§7.7: update the user named by `userId`/`userUuid` if it exists, else create one
    (keeping a given userId/userUuid). Never matches by email."""
    values = dict(fields)
    user_id = values.pop("userId", None)
    user_uuid = values.pop("userUuid", None)
    legacy_uuid = values.pop("uuid", None)
    if user_uuid and legacy_uuid and user_uuid.lower() != legacy_uuid.lower():
        raise BadRequest('"uuid" must equal "userUuid"')
    wanted_uuid = user_uuid or legacy_uuid
    user_uuid = str(wanted_uuid).lower() if wanted_uuid else None
    by_id = store.get_user(mode, tenant.tenantId, user_id) if user_id is not None else None
    by_uuid = store.get_by_uuid(mode, tenant.tenantId, user_uuid) if user_uuid else None
    if by_id is not None and by_uuid is not None and by_id.userUuid != by_uuid.userUuid:
        raise BadRequest('"userId" and "userUuid" name different users')
    existing = by_id or by_uuid
    if existing is not None:
        if user_uuid and existing.userUuid != user_uuid:
            raise BadRequest('"userId" and "userUuid" name different users')
        if user_id is not None and int(existing.userId) != user_id:
            raise BadRequest('"userId" and "userUuid" name different users')
        return update(existing, values)
    if not values.get("email"):
        raise BadRequest('"email" is required')
    if user_uuid and store.get_by_uuid(mode, tenant.tenantId, user_uuid) is not None:
        raise BadRequest(CONFLICT_MESSAGES["userId"])
    return register(mode, tenant, values, user_id=user_id, user_uuid=user_uuid)
