"""Applying one checked import row (`imports.rows`) to the tenant's users, in one
transaction through the users core: the user record, its uniqueness guards, its role
assignments in the import's tenant, an imported TOTP authenticator and the
`user.create`/`user.update` webhook event commit together or not at all.

Which user a row names (concepts §7.4, api-server §1.10): a row with `userId` updates
that user, or creates a user with that id; without it, the user with the row's
`userUuid`, else the one with its email, is updated; otherwise a user is created.
`createdAt` is kept on created users (the original sign-up time). With `sendEmails` in
live mode a created user's welcome link and email (`users.invitations.welcome_for`)
join that same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from portcullis.credentials import passwords
from portcullis.platform.errors import BadRequest
from portcullis.platform.timefmt import now_iso
from portcullis.store import mfa as mfa_store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.tokens import envelope
from portcullis.users import records, roleassignments, service
from portcullis.users.fields import UserWrite
from portcullis.users.rendering import Renderer

log = logging.getLogger(__name__)

Outcome = Literal["created", "updated"]
USER_EXISTS = "User already exists"
# The writable fields (§1.4) an update takes as they are: all but the password, which
# is hashed (or comes as `passwordHash`) and applied apart.
_UPDATABLE = tuple(name for name in UserWrite.model_fields if name != "password")


@dataclass(frozen=True)
class Target:
    """Where rows go and how: the import's tenant and its `updateExisting` option."""

    mode: str
    tenant: tenant_store.TenantItem
    update_existing: bool
    renderer: Renderer
    # `options.sendEmails` in live mode: created users get the welcome email.
    send_emails: bool = False


def totp_item(user: user_store.UserItem, secret: str, stamp: str) -> user_store.Item:
    """An active TOTP authenticator holding an imported secret, sealed as a set-up seals
    one (`auth.totp`: the same KMS context, so its log-in opens it), without backup
    codes (the user makes new ones by setting TOTP up again)."""
    item = mfa_store.new_totp_item(
        user.mode,
        user.tenantId,
        int(user.userId),
        status=mfa_store.ACTIVE,
        createdAt=stamp,
        activatedAt=stamp,
        lastStep=0,
    )
    context = f"totp:{user.mode}:{user.tenantId}:{int(user.userId)}"
    sealed = envelope.seal(secret.encode("ascii"), context)
    item.ciphertext = sealed.ciphertext
    item.encryptedDataKey = sealed.encrypted_data_key
    item.nonce = sealed.nonce
    user.totpEnabledAt = stamp
    return item


@dataclass(frozen=True)
class Known:
    """What a chunk's batched reads found before its rows apply (`prefetch`): the users
    its userIds and emails name, and the new userIds its creations will take. A row
    whose identifier was not read here is read on its own, as without `Known`."""

    by_id: dict[int, user_store.UserItem | None]
    by_email: dict[str, user_store.UserItem | None]
    new_ids: dict[int, int]  # the row's position in the chunk -> its allocated userId
    reserved: bool  # the sequence is past every explicit userId the chunk creates


def prefetch(target: Target, rows: list[Mapping[str, Any]]) -> Known:
    """Read the matches of a chunk's rows in a few BatchGetItems (instead of one or two
    GetItems a row), then take the userIds of the rows that will be created in one
    `ADD` and move the sequence past their explicit ids once (instead of a call a row).

    What a row matches is read before any row of the chunk applies, as it is when rows
    apply side by side: rows of a chunk are independent (the file's duplicates were
    refused when it was stored). A redelivered chunk reads what the first delivery
    wrote, so its applied rows are found and updated, never created twice. An id
    allocated for a row that ends up matched by `userUuid` is never used (a gap, as a
    failed sign-up leaves)."""
    mode, tenant_id = target.mode, target.tenant.tenantId
    explicit = [int(row["userId"]) for row in rows if row.get("userId") is not None]
    emails = [
        str(row["email"])
        for row in rows
        if row.get("userId") is None and not row.get("userUuid") and row.get("email")
    ]
    guards = user_store.user_ids_by_guards(mode, tenant_id, "email", emails)
    users = user_store.get_users(mode, tenant_id, explicit + list(guards.values()))
    by_id: dict[int, user_store.UserItem | None] = {i: users.get(i) for i in explicit}
    by_email: dict[str, user_store.UserItem | None] = {}
    for email in emails:
        key = user_store.normalise("email", email)
        holder = guards.get(key)
        by_email[key] = users.get(holder) if holder is not None else None
    creating = [
        position
        for position, row in enumerate(rows)
        if row.get("userId") is None
        and row.get("email")
        and by_email.get(user_store.normalise("email", str(row["email"]))) is None
    ]
    new_ids: dict[int, int] = {}
    if creating:
        allocated = user_store.allocate_user_ids(mode, tenant_id, len(creating))
        new_ids = dict(zip(creating, allocated, strict=True))
    missing = [user_id for user_id, user in by_id.items() if user is None]
    if missing:
        user_store.reserve_user_id(mode, tenant_id, max(missing))
    return Known(by_id, by_email, new_ids, reserved=True)


def _match(
    target: Target, row: Mapping[str, Any], known: Known | None
) -> user_store.UserItem | None:
    tenant_id = target.tenant.tenantId
    user_id, user_uuid = row.get("userId"), row.get("userUuid")
    if user_id is not None:
        if known is not None and int(user_id) in known.by_id:
            found = known.by_id[int(user_id)]
        else:
            found = user_store.get_user(target.mode, tenant_id, int(user_id), consistent=True)
        if found is not None and user_uuid and found.userUuid != str(user_uuid).lower():
            raise BadRequest('"userId" and "userUuid" name different users')
        # A row that creates a user with this id: its userUuid must be free.
        creating = found is None and user_uuid
        if creating and user_store.get_by_uuid(target.mode, tenant_id, str(user_uuid).lower()):
            raise BadRequest('"userUuid" belongs to another user')
        return found
    if user_uuid:
        # Looked up once: a row it does not match creates a user with a free userUuid.
        found = user_store.get_by_uuid(target.mode, tenant_id, str(user_uuid).lower())
        if found is not None:
            return found
    if row.get("email"):
        email = str(row["email"])
        key = user_store.normalise("email", email)
        if known is not None and key in known.by_email:
            return known.by_email[key]
        return user_store.get_by_unique(target.mode, tenant_id, "email", email)
    return None


@dataclass(frozen=True)
class _Creation:
    item: user_store.UserItem
    extra: user_store.Extra
    # What follows the commit: counting the welcome email, when one is sent.
    after_commit: Callable[[], None]


def _creation(
    target: Target, row: Mapping[str, Any], new_id: int | None, reserved: bool
) -> _Creation:
    if not row.get("email"):
        raise BadRequest('"email" is required')
    roles = row.get("roles")
    user_uuid = str(row["userUuid"]).lower() if row.get("userUuid") else None
    explicit = int(row["userId"]) if row.get("userId") is not None else None
    item = records.new_user(
        target.mode,
        target.tenant.tenantId,
        **records.writable(row),
        roles={target.tenant.tenantId: list(roles)} if roles else None,
        user_id=explicit if explicit is not None else new_id,
        user_uuid=user_uuid,
        created_at=row.get("createdAt"),
        password_hash=row.get("passwordHash"),
        id_reserved=new_id is not None if explicit is None else reserved,
    )
    if row.get("isPhoneNumberConfirmed") and item.phoneNumber:
        item.isPhoneNumberConfirmed = True
        item.confirmedPhoneNumberAt = item.createdAt
    saves: list[user_store.Item] = []
    if row.get("totpSecret"):
        saves.append(totp_item(item, str(row["totpSecret"]), now_iso()))
    if not target.send_emails:
        return _Creation(item, user_store.Extra(saves, []), lambda: None)
    # Imported here: only imports that send welcome emails need invitations (mail, links,
    # callers), which the worker's cold start would otherwise pay for every job.
    from portcullis.users import invitations

    # The link and the outbox email commit with the user: a row applied again
    # (a redelivered chunk) finds the user and updates it, so it never sends twice.
    welcome = invitations.welcome_for(target.tenant, item)
    saves.extend(welcome.saves)
    return _Creation(item, user_store.Extra(saves, []), lambda: welcome.committed(item))


@dataclass(frozen=True)
class _Change:
    changes: dict[str, Any]
    password_hash: str | None
    also: service.AlsoWrites


def _change(target: Target, row: Mapping[str, Any]) -> _Change:
    changes = {name: row[name] for name in _UPDATABLE if name in row}
    roles = row.get("roles")
    secret = row.get("totpSecret")
    confirmed_phone = row.get("isPhoneNumberConfirmed")

    def also(
        current: user_store.UserItem, stamp: str
    ) -> tuple[list[user_store.Item], list[user_store.Item]]:
        saves: list[user_store.Item] = []
        deletes: list[user_store.Item] = []
        if roles is not None:
            saves, deletes = roleassignments.role_change(
                current, target.tenant.tenantId, list(roles), stamp
            )
        if secret:
            saves.append(totp_item(current, str(secret), stamp))
        if confirmed_phone is not None and current.phoneNumber:
            current.isPhoneNumberConfirmed = bool(confirmed_phone)
            current.confirmedPhoneNumberAt = stamp if confirmed_phone else None
        return saves, deletes

    # The row check applied the password policy (or the import skips it on purpose).
    hashed = passwords.hash_password(str(row["password"])) if row.get("password") else None
    return _Change(changes, hashed or row.get("passwordHash"), also)


def apply(
    target: Target, row: Mapping[str, Any], known: Known | None = None, position: int = -1
) -> Outcome:
    """Create or update the user a row names; BadRequest (the row's error) otherwise.
    `known`: the chunk's `prefetch`, `position` the row's place in it."""
    existing = _match(target, row, known)
    if existing is None:
        new_id = known.new_ids.get(position) if known else None
        creation = _creation(target, row, new_id, known is not None and known.reserved)
        service.create(creation.item, creation.extra, renderer=target.renderer)
        creation.after_commit()
        return "created"
    if not target.update_existing:
        raise BadRequest(USER_EXISTS)
    change = _change(target, row)
    service.update(existing, change.changes, password_hash=change.password_hash, also=change.also)
    return "updated"


@dataclass(frozen=True)
class Prepared:
    """A row's write made but not sent (`prepare`), to commit with other rows' in one
    transaction (`commit_together`); `done` then runs what follows its commit."""

    outcome: Outcome
    write: user_store.Pending
    done: Callable[[], None]


def prepare(target: Target, row: Mapping[str, Any], known: Known, position: int) -> Prepared:
    """What `apply` would write for a row, not yet sent; BadRequest as `apply` raises
    it before writing (the row's error). Reads nothing `known` holds."""
    existing = _match(target, row, known)
    if existing is None:
        creation = _creation(target, row, known.new_ids.get(position), known.reserved)
        write = service.pending_create(creation.item, creation.extra, renderer=target.renderer)
        return Prepared("created", write, creation.after_commit)
    if not target.update_existing:
        raise BadRequest(USER_EXISTS)
    change = _change(target, row)
    write = service.pending_update(
        existing, change.changes, password_hash=change.password_hash, also=change.also
    )
    return Prepared("updated", write, lambda: service.updated_after(write.item, change.changes))


def commit_together(prepared: list[Prepared]) -> None:
    """Commit several rows' writes in one transaction, then what follows each;
    `store.users.Cancelled` otherwise. What follows a commit (counting a welcome
    email, ending a locked user's sessions) is best effort: the rows are written, and
    failing them now would only make a redelivery update them again."""
    user_store.commit_together([p.write for p in prepared])
    for row in prepared:
        try:
            row.done()
        except Exception:
            log.warning("what follows an imported row's commit failed", exc_info=True)
