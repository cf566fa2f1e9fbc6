"""Passthrough migration counts per tenant, mode and UTC day (concepts §7.2 "Metrics").

One item per day in the tenant's partition (deleting the tenant purges them), counted
with DynamoDB `ADD` so that concurrent log-ins on any number of Lambda instances never
lose a count, and written in the same transaction as the log-in's outcome where there is
one (`tally` returns an `Update` for it). Items expire by TTL after `KEEP_DAYS`.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.update import Action

from portcullis.store.base import Item, tenant_pk
from portcullis.store.transactions import Update

SK_PREFIX = "PTMETRICS#"
KEEP_DAYS = 400
OUTCOMES = ("migrated", "refused", "unavailable")


class PassthroughDayItem(Item):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    day = UnicodeAttribute()  # YYYY-MM-DD, UTC
    attempts = NumberAttribute(default=0)  # every upstream check, whatever its outcome
    migrated = NumberAttribute(default=0)
    refused = NumberAttribute(default=0)
    unavailable = NumberAttribute(default=0)


def _item(mode: str, tenant_id: str, day: str) -> PassthroughDayItem:
    return PassthroughDayItem(tenant_pk(mode, tenant_id), SK_PREFIX + day)


def tally(mode: str, tenant_id: str, day: str, outcome: str | None, expires_at: int) -> Update:
    """The day's counters plus one attempt and, if given, one `outcome` (one of
    `OUTCOMES`), as an update to write with the outcome itself (or alone, `record`)."""
    item = _item(mode, tenant_id, day)
    actions: list[Action] = [
        PassthroughDayItem.attempts.add(1),
        PassthroughDayItem.type.set("passthroughMetrics"),
        PassthroughDayItem.tenantId.set(tenant_id),
        PassthroughDayItem.mode.set(mode),
        PassthroughDayItem.day.set(day),
        PassthroughDayItem.ttl.set(expires_at),
    ]
    if outcome is not None:
        if outcome not in OUTCOMES:
            raise ValueError(outcome)
        actions.append(getattr(PassthroughDayItem, outcome).add(1))
    return Update(item, actions)


def record(update: Update) -> None:
    """Write a `tally` on its own (one UpdateItem), when there is no outcome write."""
    update.item.update(actions=update.actions)


def days(mode: str, tenant_id: str, first: str, last: str) -> list[PassthroughDayItem]:
    """The days with counts between `first` and `last` (inclusive), oldest first."""
    return list(
        PassthroughDayItem.query(
            tenant_pk(mode, tenant_id),
            PassthroughDayItem.sk.between(SK_PREFIX + first, SK_PREFIX + last),
        )
    )
