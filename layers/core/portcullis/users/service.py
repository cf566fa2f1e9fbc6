"""End users: create, read, update, delete, search, roles, and the public User object (§1.3).

Every write is one DynamoDB transaction holding the user record, its uniqueness guards,
the role assignments that mirror its `roles` map, and the outbox items it causes (the
`user.create|update|delete` webhook event, an invitation email, a link credential). A
write that fails leaves nothing behind and announces nothing.

Writes of an existing record are optimistic: `save_user` checks the `version` read, and
on a concurrent change the write is re-applied to a fresh copy (`retrying`).
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from portcullis.access import roles as role_service
from portcullis.credentials import links, passwords
from portcullis.messaging import outbox
from portcullis.platform import config
from portcullis.platform.customdata import check_data_size, merge_data
from portcullis.platform.errors import BadRequest, NotFound, TooManyRequests
from portcullis.platform.timefmt import now_iso
from portcullis.search import query as search
from portcullis.store import roles as role_store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as store
from portcullis.tenancy import settings

CONFLICT_MESSAGES = {
    "email": "Email already exists",
    "username": "Username already exists",
    "phoneNumber": "Phone number already exists",
    "userId": "User already exists",
}
USER_NOT_FOUND = "User not found"
# Bounds of what an exact search may put into a key: ids are at most 15 digits, emails
# 254 characters, usernames 100, uuids 36.
MAX_USER_ID = 10**15
MAX_INDEXED_VALUE_LENGTH = 254
WRITE_ATTEMPTS = 6

_PATH_INT = re.compile(r"^[1-9][0-9]{0,15}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Exact lookups that an index answers: attribute -> how to find the one candidate.
INDEXED_ATTRIBUTES = ("email", "username", "phoneNumber", "userUuid", "userId")

T = TypeVar("T")
log = logging.getLogger(__name__)


def conflict_error(exc: store.Conflict, messages: dict[str, str] | None = None) -> BadRequest:
    return BadRequest((messages or CONFLICT_MESSAGES).get(exc.field, "User already exists"))


def retrying(attempt: Callable[[], T]) -> T:
    """Run a read-modify-write until it commits.

    `Changed` (someone wrote the record in between) and `Contention` (DynamoDB
    cancelled a transaction racing for the same items) are both safe to retry; the
    jittered pause keeps a burst of writers from colliding again in lockstep.
    """
    for number in range(WRITE_ATTEMPTS):
        try:
            return attempt()
        except (store.Changed, store.Contention):
            if number == WRITE_ATTEMPTS - 1:
                break
            time.sleep(random.uniform(0.01, 0.05) * (number + 1))  # noqa: S311 (jitter)
    raise TooManyRequests("Too many concurrent changes to this user, please retry", retry_after=1)


# ------------------------------------------------------------------------- building


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
) -> store.UserItem:
    """Build (not write) a user record; commit it with `create`.

    Emails are stored lowercase (api-server §1.3) so that every comparison, index key
    and guard agrees. `password_hash` takes an already-hashed password (imports).
    """
    stamp = now_iso()
    if user_id is None:
        user_id = store.allocate_user_id(mode, tenant_id)
    else:
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


def unique_fields(user: store.UserItem) -> dict[str, str | None]:
    return {kind: getattr(user, kind) for kind in store.GUARDED}


def _assignment(user: store.UserItem, role_tenant_id: str) -> role_store.AssignmentItem:
    return role_store.assignment_item(
        user.mode,
        role_tenant_id,
        user_tenant_id=user.tenantId,
        user_id=int(user.userId),
        user_uuid=user.userUuid,
        roles=list((user.roles or {}).get(role_tenant_id) or []),
        updated_at=user.updatedAt,
    )


def _assignment_keys(user: store.UserItem) -> list[role_store.AssignmentItem]:
    return [
        role_store.assignment_key(user.mode, tid, user.tenantId, int(user.userId))
        for tid, names in (user.roles or {}).items()
        if names
    ]


# ------------------------------------------------------------------------- rendering


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
    role_tenants: dict[str, tenant_store.TenantItem | None] | None = None,
    second_factors: list[dict[str, Any]] | None = None,
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


def _ancestors(user: store.UserItem, renderer: Renderer) -> list[str]:
    return list(renderer.tenant.ancestors) if renderer.tenant else []


def event_item(action: str, user: store.UserItem, renderer: Renderer | None = None) -> store.Item:
    """The `user.<action>` webhook event for the user as it is now (add it to the write)."""
    renderer = renderer or Renderer.for_tenant(user.mode, user.tenantId)
    return outbox.event_item(
        action,
        "user",
        user.mode,
        renderer(user),
        tenant_id=user.tenantId,
        ancestor_tenant_ids=_ancestors(user, renderer),
    )


# ------------------------------------------------------------------------- lookups


def get_by_path_id(mode: str, tenant_id: str, raw_id: str) -> store.UserItem:
    """A user of the tenant+mode by `{userId}` path value: integer userId or userUuid.

    Anything else, and any id of another tenant or mode, is 404 `User not found`.
    """
    value = (raw_id or "").strip()
    user = None
    if _PATH_INT.match(value):
        user = store.get_user(mode, tenant_id, int(value), consistent=True)
    elif _UUID.match(value.lower()):
        user = store.get_by_uuid(mode, tenant_id, value.lower())
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user


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
    fresh = store.get_user(user.mode, user.tenantId, int(user.userId), consistent=True)
    if fresh is None:
        raise NotFound(USER_NOT_FOUND)
    return fresh


# ------------------------------------------------------------------------- create


def create(
    item: store.UserItem,
    extra: store.Extra | None = None,
    *,
    event: bool = True,
    renderer: Renderer | None = None,
) -> store.UserItem:
    """Commit a new user with its guards, role assignments, `user.create` event and
    `extra` items in one transaction; conflicts become 400 `Email already exists`..."""
    extra = extra or store.Extra.none()
    saves = list(extra.saves)
    saves.extend(_assignment(item, tid) for tid, names in (item.roles or {}).items() if names)
    if event:
        saves.append(event_item("create", item, renderer))

    def attempt() -> store.UserItem:
        store.create_user(item, store.Extra(saves, []))
        return item

    try:
        return retrying(attempt)
    except store.Conflict as exc:
        raise conflict_error(exc) from exc


def check_identifiers(values: Mapping[str, Any]) -> None:
    """A user needs an email, a username or a phone number (api-server §7.1)."""
    if not any(values.get(k) for k in ("email", "username", "phoneNumber")):
        raise BadRequest('"email" is required')


def register(
    mode: str,
    tenant: tenant_store.TenantItem,
    fields: Mapping[str, Any],
    *,
    role_names: list[str] | None = None,
    user_id: int | None = None,
    user_uuid: str | None = None,
    extra: store.Extra | None = None,
) -> store.UserItem:
    """Create a user owned by `tenant` from validated writable fields (§1.4).

    `role_names` must exist in `tenant` (checked before anything is written).
    """
    check_identifiers(fields)
    if fields.get("password") is not None:
        passwords.check_policy(str(fields["password"]), mode)
    if fields.get("data") is not None:
        check_data_size(fields["data"])
    names = role_service.require_roles(mode, tenant.tenantId, role_names) if role_names else []
    if user_id is not None and store.get_user(mode, tenant.tenantId, user_id) is not None:
        raise BadRequest(CONFLICT_MESSAGES["userId"])
    item = new_user(
        mode,
        tenant.tenantId,
        email=fields.get("email"),
        username=fields.get("username"),
        phone_number=fields.get("phoneNumber"),
        name=fields.get("name"),
        image=fields.get("image"),
        data=fields.get("data"),
        password=fields.get("password"),
        locked=bool(fields.get("locked") or False),
        is_mfa_required=bool(fields.get("isMfaRequired") or False),
        is_email_confirmed=bool(fields.get("isEmailConfirmed") or False),
        roles={tenant.tenantId: names} if names else None,
        user_id=user_id,
        user_uuid=user_uuid,
    )
    return create(item, extra, renderer=Renderer.for_tenant(mode, tenant.tenantId, tenant))


# ------------------------------------------------------------------------- update


def _same(kind: str, old: str | None, new: str | None) -> bool:
    return (old and store.normalise(kind, old)) == (new and store.normalise(kind, new))


def _apply_changes(
    user: store.UserItem, changes: Mapping[str, Any], password_hash: str | None, stamp: str
) -> None:
    if "email" in changes:
        email = normalise_email(changes["email"])
        if not _same("email", user.email, email):
            user.isEmailConfirmed = False
            user.confirmedEmailAt = None
        user.email = email
    if "phoneNumber" in changes:
        phone = changes["phoneNumber"]
        if not _same("phoneNumber", user.phoneNumber, phone):
            user.isPhoneNumberConfirmed = False
            user.confirmedPhoneNumberAt = None
        user.phoneNumber = phone
    if "username" in changes:
        user.username = changes["username"]
    if "name" in changes:
        user.name = changes["name"] or ""
    if "image" in changes:
        user.image = changes["image"]
    if "data" in changes:
        user.data = merge_data(user.data or {}, changes["data"])
    if "locked" in changes and changes["locked"] is not None:
        user.locked = bool(changes["locked"])
    if "isMfaRequired" in changes and changes["isMfaRequired"] is not None:
        user.isMfaRequired = bool(changes["isMfaRequired"])
    if "isEmailConfirmed" in changes and changes["isEmailConfirmed"] is not None:
        confirmed = bool(changes["isEmailConfirmed"])
        if confirmed and not user.isEmailConfirmed:
            user.confirmedEmailAt = stamp
        elif not confirmed:
            user.confirmedEmailAt = None
        user.isEmailConfirmed = confirmed
    if password_hash is not None:
        user.passwordHash = password_hash
        user.passwordChangedAt = stamp
    user.updatedAt = stamp


def update(user: store.UserItem, changes: Mapping[str, Any]) -> store.UserItem:
    """Apply writable fields (§7.3) and fire `user.update`, all in one transaction.

    Changing email or phone number makes it unconfirmed (a new address is unproven)
    unless the same request sets `isEmailConfirmed`.
    """
    if not changes:
        raise BadRequest("At least one field is required")
    password_hash = None
    if changes.get("password") is not None:
        passwords.check_policy(str(changes["password"]), user.mode)
        password_hash = passwords.hash_password(str(changes["password"]))
    if changes.get("data") is not None:
        check_data_size(changes["data"])
    renderer = Renderer.for_tenant(user.mode, user.tenantId)
    current = user

    def attempt() -> store.UserItem:
        nonlocal current
        previous = unique_fields(current)
        _apply_changes(current, changes, password_hash, now_iso())
        check_identifiers({k: getattr(current, k) for k in store.GUARDED})
        check_data_size(current.data or {})
        try:
            store.save_user(
                current, previous, store.Extra([event_item("update", current, renderer)], [])
            )
        except (store.Changed, store.Contention):
            current = reload(current)
            raise
        return current

    try:
        updated = retrying(attempt)
    except store.Conflict as exc:
        raise conflict_error(exc) from exc
    if changes.get("locked") is True:
        _end_sessions(updated, "admin")
    return updated


def _end_sessions(user: store.UserItem, reason: str) -> None:
    """Mark the user's sessions ended after a lock or a deletion has committed (§7.3,
    §7.4). Best effort: the sessions module refuses a locked or deleted user's session at
    every use anyway, so this only keeps the session lists truthful."""
    from portcullis.sessions import lifecycle  # the client-auth side; users need not load it early

    try:
        lifecycle.end_all(user.mode, user.tenantId, int(user.userId), reason)
    except Exception:
        log.warning("ending the sessions of a user failed", exc_info=True)


def mark_active(user: store.UserItem) -> dict[str, Any]:
    """Set lastActiveAt (§7.8). Activity is not a change: no event, no version bump."""
    stamp = now_iso()
    if not store.touch_active(user, stamp):
        raise NotFound(USER_NOT_FOUND)
    return {"message": "OK", "lastActiveAt": stamp}


# ------------------------------------------------------------------------- delete


def delete(user: store.UserItem) -> dict[str, Any]:
    """Remove the user, guards and role assignments, fire `user.delete`; returns the
    User object as it was. Pending link credentials are revoked after the commit (an
    orphaned link cannot log anyone in: its user no longer exists)."""
    renderer = Renderer.for_tenant(user.mode, user.tenantId)
    current = user
    before: dict[str, Any] = {}

    def attempt() -> store.UserItem:
        nonlocal current, before
        before = renderer(current)
        event = outbox.event_item(
            "delete",
            "user",
            current.mode,
            before,
            tenant_id=current.tenantId,
            ancestor_tenant_ids=_ancestors(current, renderer),
        )
        try:
            store.delete_user(current, store.Extra([event], _assignment_keys(current)))
        except (store.Changed, store.Contention):
            current = reload(current)
            raise
        return current

    retrying(attempt)
    try:
        links.revoke(current)
    except Exception:  # the delete has committed; a stale link can no longer log in
        log.warning("revoking links of a deleted user failed", exc_info=True)
    _end_sessions(current, "user_deleted")
    return before


# ------------------------------------------------------------------------- roles


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
        return [_assignment(user, role_tenant_id)], []
    return [], [
        role_store.assignment_key(user.mode, role_tenant_id, user.tenantId, int(user.userId))
    ]


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
        saves, deletes = role_change(current, role_tenant.tenantId, wanted, now_iso())
        saves.append(event_item("update", current, renderer))
        try:
            store.save_user(current, unique_fields(current), store.Extra(saves, deletes))
        except (store.Changed, store.Contention):
            current = reload(current)
            raise
        return current

    return retrying(attempt)


def remove_role_from_holders(mode: str, tenant_id: str, role_name: str) -> int:
    """Strip a deleted role from every user holding it in the tenant; returns how many
    users changed. Idempotent: it also runs as an outbox task after the deletion."""
    changed = 0
    for assignment in role_store.holders(mode, tenant_id, role_name):
        user = store.get_user(mode, assignment.userTenantId, int(assignment.userId))
        if user is None:
            role_store.assignment_key(
                mode, tenant_id, assignment.userTenantId, int(assignment.userId)
            ).delete()
            continue
        if _drop_roles(user, tenant_id, {role_name}):
            changed += 1
    return changed


def _drop_roles(user: store.UserItem, tenant_id: str, names: set[str] | None) -> bool:
    """Remove `names` (or all, for None) from the user's roles in `tenant_id`."""
    renderer = Renderer.for_tenant(user.mode, user.tenantId)
    current = user
    did_change = False

    def attempt() -> store.UserItem:
        nonlocal current, did_change
        held = list((current.roles or {}).get(tenant_id) or [])
        wanted = [] if names is None else [n for n in held if n not in names]
        if wanted == held and (held or tenant_id not in (current.roles or {})):
            return current
        saves, deletes = role_change(current, tenant_id, wanted, now_iso())
        saves.append(event_item("update", current, renderer))
        try:
            store.save_user(current, unique_fields(current), store.Extra(saves, deletes))
        except (store.Changed, store.Contention):
            current = reload(current)
            raise
        did_change = True
        return current

    retrying(attempt)
    return did_change


def cleanup_deleted_tenant(mode: str, tenant_id: str) -> None:
    """After a tenant is deleted: strip its role assignments from users elsewhere and
    delete the users it owned (each firing its webhook). Runs as an outbox task, so it
    is retried until it completes; every step is idempotent."""
    for assignment in role_store.holders(mode, tenant_id):
        user = store.get_user(mode, assignment.userTenantId, int(assignment.userId))
        if user is None or assignment.userTenantId == tenant_id:
            role_store.assignment_key(
                mode, tenant_id, assignment.userTenantId, int(assignment.userId)
            ).delete()
            continue
        _drop_roles(user, tenant_id, None)
        # Also clears an assignment whose user record no longer listed the tenant.
        role_store.assignment_key(
            mode, tenant_id, assignment.userTenantId, int(assignment.userId)
        ).delete()
    for user in list(store.iterate_users(mode, tenant_id)):
        try:
            delete(user)
        except NotFound:
            continue


# ------------------------------------------------------------------------- search


def search_record(user: store.UserItem) -> dict[str, Any]:
    """The searchable attributes of §1.11, cheap to build for every user of a tenant;
    the full User object is rendered only for the page that is returned."""
    return {
        "userId": int(user.userId),
        "userUuid": user.userUuid,
        "email": user.email,
        "username": user.username,
        "name": user.name or "",
        "phoneNumber": user.phoneNumber,
        "image": user.image,
        "locked": bool(user.locked),
        "isConfirmed": bool(user.isEmailConfirmed),
        "isEmailConfirmed": bool(user.isEmailConfirmed),
        "isPhoneNumberConfirmed": bool(user.isPhoneNumberConfirmed),
        "isMfaRequired": bool(user.isMfaRequired),
        "createdAt": user.createdAt,
        "updatedAt": user.updatedAt,
        "lastActiveAt": user.lastActiveAt,
        "data": user.data or {},
    }


def exact_lookup(body: Mapping[str, Any] | None) -> tuple[str, Any] | None:
    """(attr, value) when the whole request is one `is` filter on an indexed attribute.

    Only then can the answer come from one GetItem/Query; any other filter, a `search`
    text, or a second filter means reading the partition (docs/search.md).
    """
    if not isinstance(body, Mapping) or body.get("search") not in (None, ""):
        return None
    filters = body.get("filters")
    if not isinstance(filters, Mapping):
        return None
    groups = filters.get("filterGroups")
    if not isinstance(groups, list) or len(groups) != 1 or not isinstance(groups[0], Mapping):
        return None
    items = groups[0].get("filters")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], Mapping):
        return None
    flt = items[0]
    attr, value = flt.get("attr"), flt.get("value")
    if flt.get("comparison") != "is" or attr not in INDEXED_ATTRIBUTES:
        return None
    if attr == "userId":
        ok = (
            flt.get("type") == "number"
            and isinstance(value, int)
            and not isinstance(value, bool)
            and value <= MAX_USER_ID
        )
    else:
        ok = flt.get("type") == "string" and isinstance(value, str) and bool(value.strip())
    return (str(attr), value) if ok else None


def _indexed_candidate(mode: str, tenant_id: str, attr: str, value: Any) -> store.UserItem | None:
    """Email, username and phone go through their uniqueness guard (consistent reads, so
    a user is searchable as soon as it is created); a uuid through gsi1."""
    if attr == "userId":
        return store.get_user(mode, tenant_id, value, consistent=True) if value > 0 else None
    if len(value) > MAX_INDEXED_VALUE_LENGTH:
        return None  # longer than any stored value; and DynamoDB keys are size-limited
    if attr == "userUuid":
        return store.get_by_uuid(mode, tenant_id, value)
    return store.get_by_unique(mode, tenant_id, attr, value)


def find(
    mode: str,
    tenant: tenant_store.TenantItem,
    body: Mapping[str, Any] | None,
    *,
    role_scope: search.RoleScope | None = None,
) -> dict[str, Any]:
    """Search users owned by `tenant` (§7.5) and return the §1.9 envelope.

    The request is validated in full first; an exact lookup is answered from an index,
    anything else reads the tenant+mode partition page by page.
    """
    request = search.parse_search_request(body, search.USER_CATALOG, role_scope=role_scope)
    exact = exact_lookup(body)
    candidates: Iterable[store.UserItem]
    continuation = None
    if exact is not None:
        found = _indexed_candidate(mode, tenant.tenantId, exact[0], exact[1])
        candidates = [found] if found is not None else []
    else:
        # A bounded window of the partition per request (issue 8): the cost of one
        # search no longer grows with the tenant; the rest is a continuation away.
        start = None if request.after is None else int(request.after)
        candidates, after = store.read_users(
            mode, tenant.tenantId, after=start, limit=config.search_scan_limit()
        )
        continuation = None if after is None else search.continuation_token(str(after))
    by_id: dict[int, store.UserItem] = {}
    records: list[dict[str, Any]] = []
    for user in candidates:
        record = search_record(user)
        if request.matches(record, user.roles or {}):
            by_id[record["userId"]] = user
            records.append(record)
    page, total = search.order_and_page(records, request)
    render = Renderer.for_tenant(mode, tenant.tenantId, tenant)
    results = [render(by_id[record["userId"]]) for record in page]
    return search.list_envelope(
        results, total, request.page, request.limit, continuation=continuation
    )


# ------------------------------------------------------------------------- create or update


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
