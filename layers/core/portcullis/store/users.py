"""User records, uniqueness guards and the per-tenant userId sequence.

All users of one tenant+mode share a partition (`USERS#{mode}#{tenantId}`), so a
general search reads exactly one partition. Exact lookups never scan: by userId a
GetItem, by userUuid a query on gsi1, by email a query on gsi2, by username or
phone number a GetItem on the guard item. Guards are written in the same
transaction as the record, so two concurrent writers of one email cannot both win.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from portcullis.store.base import (
    Gsi1,
    Gsi2,
    condition_held,
    connection,
    find,
    newest_first,
    owned_item,
    read_page,
    tenant_pk,
)
from portcullis.store.base import Item as Item  # re-exported: services annotate with it
from portcullis.store.transactions import Update

USER_PREFIX = "USER#"
GUARD_SK = "UNIQUE"
GUARDED = ("email", "username", "phoneNumber")


def users_pk(mode: str, tenant_id: str) -> str:
    return f"USERS#{mode}#{tenant_id}"


def user_sk(user_id: int) -> str:
    return f"{USER_PREFIX}{user_id:012d}"


class UserItem(Item):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    userId = NumberAttribute()
    userUuid = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)
    phoneNumber = UnicodeAttribute(null=True)
    name = UnicodeAttribute(default="")
    image = UnicodeAttribute(null=True)
    data = JSONAttribute(default=dict)
    locked = BooleanAttribute(default=False)
    isMfaRequired = BooleanAttribute(default=False)
    preferredFirstFactor = JSONAttribute(null=True)
    preferredSecondFactor = JSONAttribute(null=True)
    isEmailConfirmed = BooleanAttribute(default=False)
    confirmedEmailAt = UnicodeAttribute(null=True)
    isPhoneNumberConfirmed = BooleanAttribute(default=False)
    confirmedPhoneNumberAt = UnicodeAttribute(null=True)
    lastActiveAt = UnicodeAttribute(null=True)
    lastMessagedAt = UnicodeAttribute(null=True)
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    passwordHash = UnicodeAttribute(null=True)
    passwordChangedAt = UnicodeAttribute(null=True)
    passwordMigratedAt = UnicodeAttribute(null=True)  # hash taken over by passthrough (§7.2)
    claimedAt = UnicodeAttribute(null=True)  # first proof of an unconfirmed address
    totpEnabledAt = UnicodeAttribute(null=True)  # an active TOTP authenticator (store/mfa.py)
    # {"status": "bounced"|"complained", "at": ..., "email": ...}: SES reported the address
    # (users/emailstatus.py); shown while `email` is still the user's address.
    emailStatus = JSONAttribute(null=True)
    roles = JSONAttribute(default=dict)  # tenantId -> [role names], direct grants only
    version = NumberAttribute(default=1)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    by_uuid: Gsi1[UserItem] = Gsi1()
    by_email: Gsi2[UserItem] = Gsi2()


class GuardItem(Item):
    """Claims one email/username/phone number for one user of a tenant+mode."""

    userId = NumberAttribute()


class UserSequence(Item):
    seq = NumberAttribute(default=0)


class Conflict(Exception):
    """A uniqueness guard is already taken; `field` names which one."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class Changed(Exception):
    """The record changed since it was read (optimistic lock); the caller may retry."""


class Contention(Exception):
    """DynamoDB cancelled the transaction because another one touched the same items at
    the same moment (TransactionConflict); nothing was written and a retry is safe."""


def normalise(kind: str, value: str) -> str:
    return value.strip().lower() if kind in ("email", "username") else value.strip()


def guard_pk(mode: str, tenant_id: str, kind: str, value: str) -> str:
    return f"UNIQUE#{mode}#{tenant_id}#{kind}#{normalise(kind, value)}"


def email_index_key(mode: str, tenant_id: str, email: str) -> str:
    return f"EMAIL#{mode}#{tenant_id}#{normalise('email', email)}"


def guard_item(mode: str, tenant_id: str, kind: str, value: str, user_id: float) -> GuardItem:
    return GuardItem(guard_pk(mode, tenant_id, kind, value), GUARD_SK, type="guard", userId=user_id)


def allocate_user_id(mode: str, tenant_id: str) -> int:
    """Next userId of the tenant+mode: one atomic ADD; ids are never reused."""
    seq = UserSequence(tenant_pk(mode, tenant_id), "USERSEQ")
    seq.update(actions=[UserSequence.seq.add(1), UserSequence.type.set("userseq")])
    return int(seq.seq)


def allocate_user_ids(mode: str, tenant_id: str, count: int) -> list[int]:
    """`count` consecutive new userIds with ONE atomic ADD (an import chunk's
    creations): the same ids one `allocate_user_id` each would give, in one call."""
    seq = UserSequence(tenant_pk(mode, tenant_id), "USERSEQ")
    seq.update(actions=[UserSequence.seq.add(count), UserSequence.type.set("userseq")])
    last = int(seq.seq)
    return list(range(last - count + 1, last + 1))


def reserve_user_id(mode: str, tenant_id: str, user_id: int) -> None:
    """Move the sequence past an explicitly chosen userId (imports, createOrUpdate)."""
    seq = UserSequence(tenant_pk(mode, tenant_id), "USERSEQ")
    try:
        seq.update(
            actions=[UserSequence.seq.set(user_id), UserSequence.type.set("userseq")],
            condition=(UserSequence.seq < user_id) | UserSequence.seq.does_not_exist(),
        )
    except Exception as exc:  # the sequence is already past it: nothing to do
        if "ConditionalCheckFailed" not in str(exc):
            raise


def index_fields(item: UserItem) -> None:
    """Derive the index attributes from the record (call before every write)."""
    item.gsi1pk = f"USERUUID#{item.userUuid}"
    item.gsi1sk = f"{item.mode}#{item.tenantId}"
    if item.email:
        item.gsi2pk = email_index_key(item.mode, item.tenantId, item.email)
        item.gsi2sk = "USER"
    else:
        item.gsi2pk = None
        item.gsi2sk = None


def new_user_item(mode: str, tenant_id: str, user_id: int, **fields: Any) -> UserItem:
    item = owned_item(
        UserItem,
        user_sk(user_id),
        "user",
        pk=users_pk(mode, tenant_id),
        mode=mode,
        tenant_id=tenant_id,
        userId=user_id,
        **fields,
    )
    index_fields(item)
    return item


def unique_fields(item: UserItem) -> dict[str, str | None]:
    """The guarded fields as they are now: what `save_user` needs as `previous`."""
    return {kind: getattr(item, kind) for kind in GUARDED}


def copy_of(item: UserItem) -> UserItem:
    """A detached copy of a record, to try a change on without touching the original."""
    copy = UserItem(item.pk, item.sk)
    copy.deserialize(item.serialize())
    return copy


def field_update(
    item: UserItem,
    fields: dict[str, Any],
    *,
    bump_version: bool = False,
    expect: dict[str, str | None] | None = None,
) -> Update:
    """An UpdateItem of some fields of an existing record, to run inside a transaction
    (`store.transactions.commit` or `Extra.updates`): each value is set, or removed when
    None. `bump_version` makes a concurrent whole-record save notice the change
    (optimistic lock). `expect` adds conditions: the attribute still holds the value
    read (None: still absent); the record must exist in any case."""
    actions: list[Any] = []
    for name, value in fields.items():
        attribute = getattr(UserItem, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if bump_version:
        actions.append(UserItem.version.add(1))
    condition = UserItem.pk.exists()
    for name, value in (expect or {}).items():
        attribute = getattr(UserItem, name)
        condition &= attribute.does_not_exist() if value is None else attribute == value
    return Update(UserItem(item.pk, item.sk), actions, condition)


def _conflict(exc: TransactWriteError, labels: list[str | None]) -> Exception:
    reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
    for label, reason in zip(labels, reasons, strict=False):
        if reason == "ConditionalCheckFailed":
            return Conflict(label) if label else Changed()
    if "TransactionConflict" in reasons or exc.cause_response_code in (
        "TransactionConflictException",
        "TransactionInProgressException",
    ):
        return Contention()
    return exc


class _Writes:
    """A transaction that remembers a label per write in the order DynamoDB sees them.

    pynamodb sends deletes before puts whatever order they were added in, and the
    cancellation reasons follow the sent order; labels must too, or a taken email
    would be reported as a concurrent change.
    """

    def __init__(self, tx: TransactWrite) -> None:
        self.tx = tx
        self._deletes: list[str | None] = []
        self._puts: list[str | None] = []
        self._updates: list[str | None] = []

    def save(self, item: Item, condition: Any = None, label: str | None = None) -> None:
        self.tx.save(item, condition=condition)
        self._puts.append(label)

    def delete(self, item: Item, condition: Any = None, label: str | None = None) -> None:
        self.tx.delete(item, condition=condition)
        self._deletes.append(label)

    def update(self, item: Item, actions: list[Any], condition: Any = None) -> None:
        self.tx.update(item, actions=actions, condition=condition)
        self._updates.append(None)

    @property
    def labels(self) -> list[str | None]:
        return self._deletes + self._puts + self._updates


class Extra(NamedTuple):
    """Additional writes that must commit with a user change (role assignments, outbox,
    and `updates`: objects with `item`, `actions`, `condition`, such as a sign-in's
    `store.transactions.Update`s)."""

    saves: Sequence[Item]
    deletes: Sequence[Item]
    updates: Sequence[Any] = ()

    @classmethod
    def none(cls) -> Extra:
        return cls([], [])


def _add_extra(writes: _Writes, extra: Extra) -> None:
    for other in extra.saves:
        writes.save(other)
    for other in extra.deletes:
        writes.delete(other)
    for update in extra.updates:
        writes.update(update.item, update.actions, update.condition)


def _create_writes(writes: _Writes, item: UserItem, extra: Extra) -> None:
    writes.save(item, condition=UserItem.pk.does_not_exist(), label="userId")
    for kind in GUARDED:
        value = getattr(item, kind)
        if value:
            guard = guard_item(item.mode, item.tenantId, kind, value, item.userId)
            writes.save(guard, condition=GuardItem.pk.does_not_exist(), label=kind)
    _add_extra(writes, extra)


def create_user(item: UserItem, extra: Extra | None = None) -> None:
    """Write the record and a guard per unique field, all or nothing."""
    writes: _Writes | None = None
    try:
        with TransactWrite(connection=connection()) as tx:
            writes = _Writes(tx)
            _create_writes(writes, item, extra or Extra.none())
    except TransactWriteError as exc:
        raise _conflict(exc, writes.labels if writes else []) from exc


def _save_writes(
    writes: _Writes, item: UserItem, previous: dict[str, str | None], extra: Extra
) -> None:
    """The writes of `save_user`; the caller has moved `item.version` on by one."""
    index_fields(item)
    writes.save(item, condition=UserItem.version == item.version - 1)
    for kind in GUARDED:
        old, new = previous.get(kind), getattr(item, kind)
        if (old and normalise(kind, old)) == (new and normalise(kind, new)):
            continue
        if new:
            guard = guard_item(item.mode, item.tenantId, kind, new, item.userId)
            writes.save(guard, condition=GuardItem.pk.does_not_exist(), label=kind)
        if old:
            writes.delete(
                GuardItem(guard_pk(item.mode, item.tenantId, kind, old), GUARD_SK),
                condition=GuardItem.userId == item.userId,
            )
    _add_extra(writes, extra)


def save_user(
    item: UserItem,
    previous: dict[str, str | None],
    extra: Extra | None = None,
) -> None:
    """Write a changed record, moving guards for unique fields whose value changed.

    `previous` holds the unique fields as they were read; `version` guards against a
    concurrent writer in between.
    """
    expected = item.version
    item.version = expected + 1
    writes: _Writes | None = None
    try:
        with TransactWrite(connection=connection()) as tx:
            writes = _Writes(tx)
            _save_writes(writes, item, previous, extra or Extra.none())
    except TransactWriteError as exc:
        item.version = expected
        raise _conflict(exc, writes.labels if writes else []) from exc


class Pending(NamedTuple):
    """One user write (`create_user` or, with `previous`, `save_user`) not yet sent,
    to commit with others in one transaction (`commit_together`)."""

    item: UserItem
    extra: Extra
    previous: dict[str, str | None] | None = None  # None: a creation

    def actions(self) -> int:
        """How many of a transaction's 100 actions the write takes."""
        if self.previous is None:
            guards = sum(1 for kind in GUARDED if getattr(self.item, kind))
        else:
            guards = 0
            for kind in GUARDED:
                old, new = self.previous.get(kind), getattr(self.item, kind)
                if (old and normalise(kind, old)) != (new and normalise(kind, new)):
                    guards += bool(old) + bool(new)
        extra = self.extra
        return 1 + guards + len(extra.saves) + len(extra.deletes) + len(extra.updates)

    def size(self) -> int:
        """Bytes of its items as sent (DynamoDB JSON): what counts towards a
        transaction's 4 MB. Guards, keys and conditions add a few hundred bytes."""
        items = [self.item, *self.extra.saves]
        return sum(len(json.dumps(item.serialize(), separators=(",", ":"))) for item in items)


class Cancelled(Exception):
    """`commit_together` did not commit. `written_nothing`: DynamoDB cancelled or
    refused the transaction (a taken email, a concurrent change, two writes of one
    item), so nothing was written; otherwise the call failed and it may have been."""

    def __init__(self, reason: str, *, written_nothing: bool) -> None:
        super().__init__(reason)
        self.written_nothing = written_nothing


def commit_together(pending: Sequence[Pending]) -> None:
    """Commit several user writes in ONE transaction (an import chunk's rows: one
    request instead of one each), all or nothing; Cancelled otherwise, with every
    record as it was (the caller then writes them one by one, to learn whose write
    failed and why). The caller keeps them within DynamoDB's 100 actions and 4 MB."""
    saved = [(p.item, p.item.version) for p in pending if p.previous is not None]
    try:
        with TransactWrite(connection=connection()) as tx:
            writes = _Writes(tx)
            for write in pending:
                if write.previous is None:
                    _create_writes(writes, write.item, write.extra)
                else:
                    write.item.version = write.item.version + 1
                    _save_writes(writes, write.item, write.previous, write.extra)
    except Exception as exc:
        for item, version in saved:
            item.version = version
        code = exc.cause_response_code if isinstance(exc, TransactWriteError) else None
        refused = code in ("TransactionCanceledException", "ValidationException")
        raise Cancelled(str(exc), written_nothing=refused) from exc


def delete_user(item: UserItem, extra: Extra | None = None) -> None:
    """Remove the record and its guards (plus `extra`); Changed if it moved meanwhile."""
    writes: _Writes | None = None
    try:
        with TransactWrite(connection=connection()) as tx:
            writes = _Writes(tx)
            writes.delete(item, condition=UserItem.version == item.version)
            for kind in GUARDED:
                value = getattr(item, kind)
                if value:
                    writes.delete(
                        GuardItem(guard_pk(item.mode, item.tenantId, kind, value), GUARD_SK)
                    )
            _add_extra(writes, extra or Extra.none())
    except TransactWriteError as exc:
        raise _conflict(exc, writes.labels if writes else []) from exc


def get_user(
    mode: str, tenant_id: str, user_id: int, *, consistent: bool = False
) -> UserItem | None:
    return find(UserItem, users_pk(mode, tenant_id), user_sk(user_id), consistent_read=consistent)


def get_users(mode: str, tenant_id: str, user_ids: list[int]) -> dict[int, UserItem]:
    """The users among `user_ids` that exist, strongly consistent, with BatchGetItem
    (100 keys a call): an import chunk's matches by userId in one or two calls."""
    keys = [(users_pk(mode, tenant_id), user_sk(i)) for i in sorted(set(user_ids))]
    if not keys:
        return {}
    return {int(item.userId): item for item in UserItem.batch_get(keys, consistent_read=True)}


def user_ids_by_guards(mode: str, tenant_id: str, kind: str, values: list[str]) -> dict[str, int]:
    """userId per normalised `kind` value among `values` that some user holds (the
    guards, strongly consistent, BatchGetItem): `get_by_unique` for many at once."""
    keys = sorted({(guard_pk(mode, tenant_id, kind, v), GUARD_SK) for v in values if v})
    if not keys:
        return {}
    found: dict[str, int] = {}
    prefix = guard_pk(mode, tenant_id, kind, "")
    for guard in GuardItem.batch_get(keys, consistent_read=True):
        found[guard.pk[len(prefix) :]] = int(guard.userId)
    return found


def get_by_uuid(mode: str, tenant_id: str, user_uuid: str) -> UserItem | None:
    for item in UserItem.by_uuid.query(
        f"USERUUID#{user_uuid}", UserItem.gsi1sk == f"{mode}#{tenant_id}"
    ):
        return item
    return None


def get_by_email(mode: str, tenant_id: str, email: str) -> UserItem | None:
    for item in UserItem.by_email.query(email_index_key(mode, tenant_id, email)):
        return item
    return None


def user_id_by_guard(
    mode: str, tenant_id: str, kind: str, value: str, *, consistent: bool = False
) -> int | None:
    try:
        guard = GuardItem.get(
            guard_pk(mode, tenant_id, kind, value), GUARD_SK, consistent_read=consistent
        )
    except DoesNotExist:
        return None
    return int(guard.userId)


def get_by_unique(mode: str, tenant_id: str, kind: str, value: str) -> UserItem | None:
    """The user holding an email/username/phone number: two strongly consistent
    GetItems (guard, record), so a user is found the moment its write commits — unlike
    the eventually consistent email index."""
    user_id = user_id_by_guard(mode, tenant_id, kind, value, consistent=True)
    if user_id is None:
        return None
    return get_user(mode, tenant_id, user_id, consistent=True)


def touch_active(item: UserItem, at: str) -> bool:
    """Set lastActiveAt alone: no version bump, so activity pings never make a concurrent
    profile update fail its optimistic check, and never count as a change. False when
    the user no longer exists."""
    return condition_held(
        item.update, actions=[UserItem.lastActiveAt.set(at)], condition=UserItem.pk.exists()
    )


def read_users(
    mode: str, tenant_id: str, *, after: int | None, limit: int
) -> tuple[list[UserItem], int | None]:
    """At most `limit` users of the tenant+mode in userId order, starting after userId
    `after`, and the userId to continue after (None when none are left). Reads one item
    more than it returns, to know whether any are left."""
    pk = users_pk(mode, tenant_id)
    start = None if after is None else {"pk": {"S": pk}, "sk": {"S": user_sk(after)}}
    users = UserItem.sk.startswith(USER_PREFIX)
    page, last = read_page(UserItem.query, pk, users, limit=limit, start=start)
    return page, None if last is None else int(last.userId)


def newest_users(mode: str, tenant_id: str, limit: int) -> list[UserItem]:
    """The `limit` most recently created users of the tenant+mode (highest userIds):
    one bounded Query, however large the tenant (users/customjwt.py samples them)."""
    pk = users_pk(mode, tenant_id)
    return newest_first(UserItem, pk, USER_PREFIX, limit=limit, page_size=limit)


def iterate_users(mode: str, tenant_id: str, page_size: int | None = None) -> Iterator[UserItem]:
    """Every user of the tenant+mode, one partition read page by page. By default each
    page is as large as DynamoDB allows (1 MB, ~2,000 users): the fewest round trips
    for the same read units."""
    yield from UserItem.query(
        users_pk(mode, tenant_id), UserItem.sk.startswith(USER_PREFIX), page_size=page_size
    )
