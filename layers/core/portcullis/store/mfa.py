"""Multi-factor state: first-factor tokens and TOTP authenticators (api-client §11, §9.5).

Key layout (docs/storage.md):
- first-factor token: pk `FFT#{sha256(token)}`, sk `FFT`. The token itself is never
  stored. `ttl` = expiry while pending; once used it is kept (with the session it
  produced) until that session's refresh expiry, for the stale-token rule of §9.5.
- TOTP authenticator: pk `TOTP#{mode}#{tenantId}#{userId:012d}`, sk `TOTP`; one item per
  user, `status` `pending` (with `ttl`) or `active`. The secret is a KMS envelope
  (`tokens/envelope.py`), backup codes are keyed digests in a string set.

Every change that decides a sign-in is a conditional update meant for the sign-in's
own transaction (`transactions.Update`): a time step used once (`lastStep < step`),
a backup code used once (`contains`), a token used once (`usedAt` absent).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from portcullis.store.base import Item, condition_held, find, owned_item
from portcullis.store.transactions import Delete, Update

FFT_SK = "FFT"
TOTP_SK = "TOTP"
PENDING = "pending"
ACTIVE = "active"


class FirstFactorItem(Item):
    """A sign-in halfway: the first factor passed, a second one is due."""

    mode = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    userId = NumberAttribute()
    firstFactor = JSONAttribute()
    # The second factors this token may complete with ({strategy, channel}).
    secondFactors = JSONAttribute()
    createdAt = UnicodeAttribute()
    expiresAt = NumberAttribute()
    failures = NumberAttribute(default=0)
    # Where an SMS code of this sign-in may go while the user sets up SMS (§7.6).
    pendingPhoneNumber = UnicodeAttribute(null=True)
    # What the first factor would have changed on the user, applied on completion
    # (a reset's new password, a first proof of an address): see auth/mfa.py.
    deferred = JSONAttribute(null=True)
    afterSignup = NumberAttribute(default=0)
    usedAt = UnicodeAttribute(null=True)
    sessionId = UnicodeAttribute(null=True)


class TotpItem(Item):
    mode = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    userId = NumberAttribute()
    status = UnicodeAttribute()
    ciphertext = UnicodeAttribute()
    encryptedDataKey = UnicodeAttribute()
    nonce = UnicodeAttribute()
    createdAt = UnicodeAttribute()
    expiresAt = NumberAttribute(null=True)  # pending only
    activatedAt = UnicodeAttribute(null=True)
    lastStep = NumberAttribute(default=0)
    backupDigests = UnicodeSetAttribute(null=True)


def first_factor_pk(digest: str) -> str:
    return f"FFT#{digest}"


def totp_pk(mode: str, tenant_id: str, user_id: int) -> str:
    return f"TOTP#{mode}#{tenant_id}#{int(user_id):012d}"


def new_first_factor_item(digest: str, *, expiresAt: int, **fields: Any) -> FirstFactorItem:
    """DynamoDB removes the token at its expiry (`ttl`) unless it is used before."""
    return FirstFactorItem(
        first_factor_pk(digest),
        FFT_SK,
        type="firstFactorToken",
        expiresAt=expiresAt,
        ttl=expiresAt,
        **fields,
    )


def get_first_factor(digest: str) -> FirstFactorItem | None:
    return find(FirstFactorItem, first_factor_pk(digest), FFT_SK, consistent_read=True)


def usable_condition(item: FirstFactorItem, now: int, max_failures: int) -> Any:
    return (
        FirstFactorItem.pk.exists()
        & FirstFactorItem.usedAt.does_not_exist()
        & (FirstFactorItem.expiresAt > now)
        & (FirstFactorItem.failures < max_failures)
    )


def use_update(
    item: FirstFactorItem,
    *,
    session_id: str,
    used_at: str,
    keep_until: int,
    now: int,
    max_failures: int,
) -> Update:
    """Marks the token used by `session_id`, only if it is still usable: the sign-in's
    transaction fails when another request completed with it first."""
    return Update(
        FirstFactorItem(item.pk, item.sk),
        [
            FirstFactorItem.usedAt.set(used_at),
            FirstFactorItem.sessionId.set(session_id),
            FirstFactorItem.ttl.set(keep_until),
        ],
        usable_condition(item, now, max_failures),
    )


def count_failure(item: FirstFactorItem, now: int, max_failures: int) -> None:
    """One more wrong second factor against this token (it dies at `max_failures`)."""
    condition_held(
        FirstFactorItem(item.pk, item.sk).update,
        actions=[FirstFactorItem.failures.add(1)],
        condition=usable_condition(item, now, max_failures),
    )


def set_pending_phone(
    item: FirstFactorItem, phone_number: str, now: int, max_failures: int
) -> bool:
    """Remember the number an SMS set-up code goes to; False when the token is no longer
    usable."""
    return condition_held(
        FirstFactorItem(item.pk, item.sk).update,
        actions=[FirstFactorItem.pendingPhoneNumber.set(phone_number)],
        condition=usable_condition(item, now, max_failures),
    )


def new_totp_item(mode: str, tenant_id: str, user_id: int, **fields: Any) -> TotpItem:
    return owned_item(
        TotpItem,
        TOTP_SK,
        "totp",
        pk=totp_pk(mode, tenant_id, user_id),
        mode=mode,
        tenant_id=tenant_id,
        userId=int(user_id),
        **fields,
    )


def get_totp(mode: str, tenant_id: str, user_id: int) -> TotpItem | None:
    return find(TotpItem, totp_pk(mode, tenant_id, user_id), TOTP_SK, consistent_read=True)


def not_active_condition() -> Any:
    """A new pending set-up never replaces an active authenticator."""
    return TotpItem.pk.does_not_exist() | (TotpItem.status != ACTIVE)


def activate_update(item: TotpItem, *, step: int, at: str, now: int) -> Update:
    """The first good code of a pending set-up makes it the user's authenticator: only
    this very set-up (same `createdAt`), still pending and unexpired."""
    return Update(
        TotpItem(item.pk, item.sk),
        [
            TotpItem.status.set(ACTIVE),
            TotpItem.activatedAt.set(at),
            TotpItem.lastStep.set(step),
            TotpItem.expiresAt.remove(),
            TotpItem.ttl.remove(),
        ],
        (TotpItem.status == PENDING)
        & (TotpItem.createdAt == item.createdAt)
        & (TotpItem.expiresAt > now),
    )


def step_update(item: TotpItem, step: int) -> Update:
    """RFC 6238 §5.2: a step is accepted once, and never one older than the last."""
    return Update(
        TotpItem(item.pk, item.sk),
        [TotpItem.lastStep.set(step)],
        (TotpItem.status == ACTIVE)
        & (TotpItem.createdAt == item.createdAt)
        & (TotpItem.lastStep < step),
    )


def backup_update(item: TotpItem, digest: str) -> Update:
    """A backup code works once: removed from the set, on the condition it is still in it."""
    return Update(
        TotpItem(item.pk, item.sk),
        [TotpItem.backupDigests.delete({digest})],
        (TotpItem.status == ACTIVE)
        & (TotpItem.createdAt == item.createdAt)
        & TotpItem.backupDigests.contains(digest),
    )


def delete_totp(item: TotpItem) -> Delete:
    """Removes exactly the authenticator that was read (not a newer set-up)."""
    return Delete(TotpItem(item.pk, item.sk), TotpItem.createdAt == item.createdAt)
