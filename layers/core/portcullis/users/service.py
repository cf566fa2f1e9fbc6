"""Creating, changing and deleting one user (api-server §7.1-7.4, §7.8).

Every write is one DynamoDB transaction holding the user record, its uniqueness guards,
the role assignments that mirror its `roles` map, and the outbox items it causes (the
`user.create|update|delete` webhook event, an invitation email, a link credential). A
write that fails leaves nothing behind and announces nothing. Concurrent writes of one
record are retried (`users.conflicts.retrying`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from portcullis.access import roles as role_service
from portcullis.credentials import links, passwords
from portcullis.platform.customdata import check_data_size, merge_data
from portcullis.platform.errors import BadRequest, NotFound
from portcullis.platform.timefmt import now_iso
from portcullis.store import roles as role_store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as store
from portcullis.users.conflicts import CONFLICT_MESSAGES, conflict_error, retrying
from portcullis.users.lookups import USER_NOT_FOUND, reload
from portcullis.users.records import new_user, normalise_email, writable
from portcullis.users.rendering import Renderer, event_item

log = logging.getLogger(__name__)


def create(
    item: store.UserItem,
    extra: store.Extra | None = None,
    *,
    event: bool = True,
    renderer: Renderer | None = None,
) -> store.UserItem:
    """Commit a new user with its guards, role assignments, `user.create` event and
    `extra` items in one transaction; conflicts become 400 `Email already exists`..."""
    pending = pending_create(item, extra, event=event, renderer=renderer)

    def attempt() -> store.UserItem:
        store.create_user(item, pending.extra)
        return item

    try:
        return retrying(attempt)
    except store.Conflict as exc:
        raise conflict_error(exc) from exc


def pending_create(
    item: store.UserItem,
    extra: store.Extra | None = None,
    *,
    event: bool = True,
    renderer: Renderer | None = None,
) -> store.Pending:
    """What `create` commits, not yet sent: to commit with other users' writes in one
    transaction (`store.users.commit_together`, an import chunk's rows)."""
    extra = extra or store.Extra.none()
    saves = list(extra.saves)
    saves.extend(role_store.assignments_of(item))
    if event:
        saves.append(event_item("create", item, renderer))
    return store.Pending(item, store.Extra(saves, [], list(extra.updates)))


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
        **writable(fields),
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


# More writes for an update's transaction, given the changed record and the change's
# stamp (an import's role assignments and TOTP authenticator): (saves, deletes).
AlsoWrites = Callable[[store.UserItem, str], tuple[list[store.Item], list[store.Item]]]


def _checked_update(
    user: store.UserItem,
    changes: Mapping[str, Any],
    password_hash: str | None,
    also: AlsoWrites | None,
) -> str | None:
    """Refuse an empty or invalid change; the password hash it sets, if any."""
    if not changes and password_hash is None and also is None:
        raise BadRequest("At least one field is required")
    if changes.get("password") is not None:
        passwords.check_policy(str(changes["password"]), user.mode)
        password_hash = passwords.hash_password(str(changes["password"]))
    if changes.get("data") is not None:
        check_data_size(changes["data"])
    return password_hash


def _changed(
    current: store.UserItem,
    changes: Mapping[str, Any],
    password_hash: str | None,
    also: AlsoWrites | None,
    renderer: Renderer,
) -> store.Pending:
    """Apply the change to `current` (in memory) and gather what commits with it."""
    previous = store.unique_fields(current)
    stamp = now_iso()
    _apply_changes(current, changes, password_hash, stamp)
    saves, deletes = also(current, stamp) if also is not None else ([], [])
    check_identifiers({k: getattr(current, k) for k in store.GUARDED})
    check_data_size(current.data or {})
    saves.append(event_item("update", current, renderer))
    return store.Pending(current, store.Extra(saves, deletes), previous)


def update(
    user: store.UserItem,
    changes: Mapping[str, Any],
    *,
    password_hash: str | None = None,
    also: AlsoWrites | None = None,
) -> store.UserItem:
    """Apply writable fields (§7.3) and fire `user.update`, all in one transaction.

    Changing email or phone number makes it unconfirmed (a new address is unproven)
    unless the same request sets `isEmailConfirmed`. `password_hash` sets an already
    hashed password and `also` adds writes to the transaction (both for imports).
    """
    password_hash = _checked_update(user, changes, password_hash, also)
    renderer = Renderer.for_tenant(user.mode, user.tenantId)
    current = user

    def attempt() -> store.UserItem:
        nonlocal current
        pending = _changed(current, changes, password_hash, also, renderer)
        try:
            store.save_user(current, pending.previous or {}, pending.extra)
        except (store.Changed, store.Contention):
            current = reload(current)
            raise
        return current

    try:
        updated = retrying(attempt)
    except store.Conflict as exc:
        raise conflict_error(exc) from exc
    updated_after(updated, changes)
    return updated


def pending_update(
    user: store.UserItem,
    changes: Mapping[str, Any],
    *,
    password_hash: str | None = None,
    also: AlsoWrites | None = None,
) -> store.Pending:
    """What `update` would commit first, not yet sent, made on a copy of `user` (which
    stays as it was read, for `update` to start from if the transaction fails): to
    commit with other users' writes (`store.users.commit_together`), then
    `updated_after`. BadRequest as `update` raises it."""
    password_hash = _checked_update(user, changes, password_hash, also)
    renderer = Renderer.for_tenant(user.mode, user.tenantId)
    return _changed(store.copy_of(user), changes, password_hash, also, renderer)


def updated_after(updated: store.UserItem, changes: Mapping[str, Any]) -> None:
    """What follows a committed `update`: a locked user's sessions end."""
    if changes.get("locked") is True:
        _end_sessions(updated, "admin")


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
        event = event_item("delete", current, renderer, before)
        try:
            store.delete_user(current, store.Extra([event], role_store.assignment_keys_of(current)))
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
