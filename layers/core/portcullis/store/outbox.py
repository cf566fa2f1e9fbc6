"""Outbox items: events, emails, SMS and follow-up tasks written with the change that causes them.

Key layout (docs/storage.md):
- item: pk `OUTBOX#{id}`, sk `OUTBOX`. `id` starts with the creation time in
  nanoseconds, so ids sort in creation order.
- pending index (sparse, gsi1): `OUTBOX#PENDING#{shard}` / `{nextAttemptAt:012d}#{id}`,
  present only while the item waits to be sent. Eight shards spread the write load of
  a busy deployment over several index partitions; a drain reads all of them.

Delivery is claimed with a conditional update (a short lease), so the stream-fed
publisher and a periodic drain never send one item twice at the same time. Delivered
items lose their index keys and their message content and expire by TTL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from portcullis.store.base import Gsi1, Item, condition_held, connection, find

OUTBOX_SK = "OUTBOX"
SHARDS = 8
DONE_TTL_SECONDS = 7 * 86_400
FAILED_TTL_SECONDS = 30 * 86_400
TRANSACTION_LIMIT = 100


class OutboxItem(Item):
    """`kind` is event | email | sms | task; `payload` is what the sender needs."""

    outboxId = UnicodeAttribute()
    kind = UnicodeAttribute()
    mode = UnicodeAttribute(null=True)
    tenantId = UnicodeAttribute(null=True)
    payload = JSONAttribute(default=dict)
    status = UnicodeAttribute(default="pending")
    attempts = NumberAttribute(default=0)
    nextAttemptAt = NumberAttribute(default=0)
    leaseUntil = NumberAttribute(null=True)
    lastError = UnicodeAttribute(null=True)
    createdAt = UnicodeAttribute()
    sentAt = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    pending_index: Gsi1[OutboxItem] = Gsi1()


def outbox_pk(outbox_id: str) -> str:
    return f"OUTBOX#{outbox_id}"


def shard_of(outbox_id: str) -> int:
    return int(hashlib.sha256(outbox_id.encode()).hexdigest()[:8], 16) % SHARDS


def pending_pk(shard: int) -> str:
    return f"OUTBOX#PENDING#{shard}"


def pending_sk(next_attempt_at: int, outbox_id: str) -> str:
    return f"{next_attempt_at:012d}#{outbox_id}"


def new_item(
    outbox_id: str,
    kind: str,
    payload: dict[str, object],
    *,
    mode: str | None,
    tenant_id: str | None,
    created_at: str,
    next_attempt_at: int,
) -> OutboxItem:
    return OutboxItem(
        outbox_pk(outbox_id),
        OUTBOX_SK,
        type="outbox",
        outboxId=outbox_id,
        kind=kind,
        mode=mode,
        tenantId=tenant_id,
        payload=payload,
        status="pending",
        attempts=0,
        nextAttemptAt=next_attempt_at,
        createdAt=created_at,
        gsi1pk=pending_pk(shard_of(outbox_id)),
        gsi1sk=pending_sk(next_attempt_at, outbox_id),
    )


def put_items(items: list[OutboxItem]) -> None:
    """Write standalone outbox items: one transaction when they fit, so a burst of
    messages about one change appears together."""
    if not items:
        return
    if len(items) <= TRANSACTION_LIMIT:
        with TransactWrite(connection=connection()) as tx:
            for item in items:
                tx.save(item)
        return
    with OutboxItem.batch_write() as batch:
        for item in items:
            batch.save(item)


def due(now: int, limit: int) -> list[OutboxItem]:
    """Pending items whose next attempt is due, oldest first, across every shard."""
    found: list[OutboxItem] = []
    upper = f"{now:012d}#~"
    for shard in range(SHARDS):
        found.extend(
            OutboxItem.pending_index.query(
                pending_pk(shard), OutboxItem.gsi1sk <= upper, limit=limit
            )
        )
    found.sort(key=lambda item: item.gsi1sk or "")
    return found[:limit]


def claim(item: OutboxItem, now: int, lease_seconds: int) -> bool:
    """Take the item for one delivery attempt; False when someone else holds or sent it."""
    return condition_held(
        item.update,
        actions=[
            OutboxItem.leaseUntil.set(now + lease_seconds),
            OutboxItem.attempts.add(1),
        ],
        condition=(
            (OutboxItem.status == "pending")
            & (OutboxItem.leaseUntil.does_not_exist() | (OutboxItem.leaseUntil < now))
        ),
    )


def mark_done(item: OutboxItem, now: int, sent_at: str, payload: dict[str, object]) -> None:
    """Delivered: leave the pending index, drop secrets from the payload, expire later."""
    item.update(
        actions=[
            OutboxItem.status.set("done"),
            OutboxItem.sentAt.set(sent_at),
            OutboxItem.payload.set(payload),
            OutboxItem.ttl.set(now + DONE_TTL_SECONDS),
            OutboxItem.gsi1pk.remove(),
            OutboxItem.gsi1sk.remove(),
            OutboxItem.leaseUntil.remove(),
            OutboxItem.lastError.remove(),
        ]
    )


def mark_retry(item: OutboxItem, next_attempt_at: int, error: str) -> None:
    item.update(
        actions=[
            OutboxItem.nextAttemptAt.set(next_attempt_at),
            OutboxItem.gsi1sk.set(pending_sk(next_attempt_at, item.outboxId)),
            OutboxItem.leaseUntil.remove(),
            OutboxItem.lastError.set(error[:1000]),
        ]
    )


def mark_failed(item: OutboxItem, now: int, error: str, payload: dict[str, object]) -> None:
    """Out of attempts: kept (without secrets) for inspection, then expired."""
    item.update(
        actions=[
            OutboxItem.status.set("failed"),
            OutboxItem.payload.set(payload),
            OutboxItem.ttl.set(now + FAILED_TTL_SECONDS),
            OutboxItem.gsi1pk.remove(),
            OutboxItem.gsi1sk.remove(),
            OutboxItem.leaseUntil.remove(),
            OutboxItem.lastError.set(error[:1000]),
        ]
    )


def get(outbox_id: str) -> OutboxItem | None:
    return find(OutboxItem, outbox_pk(outbox_id), OUTBOX_SK, consistent_read=True)


def from_stream_image(image: dict[str, dict[str, Any]]) -> OutboxItem:
    """An item rebuilt from a DynamoDB stream NewImage (already in wire format)."""
    item = OutboxItem()
    item.deserialize(image)
    return item


def ids(items: Iterable[OutboxItem]) -> list[str]:
    return [item.outboxId for item in items]
