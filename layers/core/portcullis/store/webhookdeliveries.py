"""Webhook deliveries: one item per event delivered to a tenant's URL, with every attempt.

Key layout (docs/storage.md):
- item: pk `WHDELIVERY#{mode}#{webhookId}`, sk `WHDELIVERY`. The id is the event's
  `webhookId`, so a second copy of one event (SQS delivers at least once) finds the
  item the first one created instead of starting a delivery of its own.
- the tenant's log (gsi1): `WHDELIVERIES#{mode}#{tenantId}` / `{createdAt}#{webhookId}`,
  read newest first by the admin listing.

`attemptCount` is the item's version for attempts: an attempt is claimed with a
conditional update on it (plus a short lease), so two copies of one queue message can
never both send attempt N. The item expires by TTL 30 days after its last change.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from portcullis.store.base import Gsi1, Item, condition_held, find, owned_item

DELIVERY_SK = "WHDELIVERY"
KEEP_SECONDS = 30 * 86_400
STATUSES = ("pending", "succeeded", "failed")


class WebhookDeliveryItem(Item):
    """`attempts` is a list of `{at, statusCode, latencyMs, response, error}`."""

    webhookId = UnicodeAttribute()
    tenantId = UnicodeAttribute()  # the tenant whose URL receives it (and may read the log)
    eventTenantId = UnicodeAttribute(null=True)  # the tenant the event is about / owned by
    workspaceId = UnicodeAttribute()  # whose signing secret signs it
    mode = UnicodeAttribute()
    event = UnicodeAttribute()  # `user.create`, ...
    url = UnicodeAttribute()
    body = UnicodeAttribute()  # the exact JSON bytes that are signed and sent
    # A §5.5 message: the bytes to send, KMS-sealed (`body` is then the envelope with the
    # link/code redacted); removed when the delivery succeeds or fails.
    sealedBody = JSONAttribute(null=True)
    status = UnicodeAttribute(default="pending")
    attempts = JSONAttribute(default=list)
    attemptCount = NumberAttribute(default=0)
    # Attempts made before the current round (a redelivery starts a new round, whose
    # retries follow the schedule from its start).
    roundStart = NumberAttribute(default=0)
    nextAttemptAt = NumberAttribute(default=0)
    leaseUntil = NumberAttribute(null=True)
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    log_index: Gsi1[WebhookDeliveryItem] = Gsi1()


def delivery_pk(mode: str, webhook_id: str) -> str:
    return f"WHDELIVERY#{mode}#{webhook_id}"


def log_pk(mode: str, tenant_id: str) -> str:
    return f"WHDELIVERIES#{mode}#{tenant_id}"


def get(mode: str, webhook_id: str) -> WebhookDeliveryItem | None:
    return find(
        WebhookDeliveryItem, delivery_pk(mode, webhook_id), DELIVERY_SK, consistent_read=True
    )


def create(
    *,
    webhook_id: str,
    tenant_id: str,
    event_tenant_id: str | None,
    workspace_id: str,
    mode: str,
    event: str,
    url: str,
    body: str,
    created_at: str,
    sealed_body: dict[str, str] | None = None,
    now: int,
    lease_seconds: int,
) -> tuple[WebhookDeliveryItem, bool]:
    """The delivery of `webhook_id` and whether this call created it. A new one is
    created holding the lease of its first attempt (no separate claim); otherwise the
    one an earlier copy of the event created is returned as it is."""
    item = owned_item(
        WebhookDeliveryItem,
        DELIVERY_SK,
        "webhookDelivery",
        pk=delivery_pk(mode, webhook_id),
        mode=mode,
        tenant_id=tenant_id,
        webhookId=webhook_id,
        eventTenantId=event_tenant_id,
        workspaceId=workspace_id,
        event=event,
        url=url,
        body=body,
        sealedBody=sealed_body,
        status="pending",
        attempts=[],
        attemptCount=0,
        roundStart=0,
        nextAttemptAt=now,
        # No lease (0): the first attempt is claimed by whoever takes its queue message.
        leaseUntil=now + lease_seconds if lease_seconds else None,
        createdAt=created_at,
        updatedAt=created_at,
        gsi1pk=log_pk(mode, tenant_id),
        gsi1sk=f"{created_at}#{webhook_id}",
        ttl=now + KEEP_SECONDS,
    )
    try:
        item.save(condition=WebhookDeliveryItem.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        existing = get(mode, webhook_id)
        if existing is None:  # pragma: no cover - expired between the two calls
            raise
        return existing, False
    return item, True


def claim(item: WebhookDeliveryItem, attempt: int, now: int, lease_seconds: int) -> bool:
    """Take attempt number `attempt` (0-based) of a pending delivery; False when it was
    made already, the delivery is over, or another worker holds the lease."""
    return condition_held(
        item.update,
        actions=[WebhookDeliveryItem.leaseUntil.set(now + lease_seconds)],
        condition=(
            (WebhookDeliveryItem.status == "pending")
            & (WebhookDeliveryItem.attemptCount == attempt)
            & (
                WebhookDeliveryItem.leaseUntil.does_not_exist()
                | (WebhookDeliveryItem.leaseUntil < now)
            )
        ),
    )


def record_attempt(
    item: WebhookDeliveryItem,
    attempt: dict[str, Any],
    *,
    status: str,
    next_attempt_at: int,
    now: int,
    updated_at: str,
    drop_sealed: bool = False,
) -> None:
    """Append one attempt, set the outcome and release the lease (holder only);
    `drop_sealed` removes a message's sealed body (the delivery is over)."""
    extra = [WebhookDeliveryItem.sealedBody.remove()] if drop_sealed else []
    item.update(
        actions=[
            *extra,
            WebhookDeliveryItem.attempts.set([*list(item.attempts), attempt]),
            WebhookDeliveryItem.attemptCount.set(item.attemptCount + 1),
            WebhookDeliveryItem.status.set(status),
            WebhookDeliveryItem.nextAttemptAt.set(next_attempt_at),
            WebhookDeliveryItem.leaseUntil.remove(),
            WebhookDeliveryItem.updatedAt.set(updated_at),
            WebhookDeliveryItem.ttl.set(now + KEEP_SECONDS),
        ],
        condition=(WebhookDeliveryItem.attemptCount == item.attemptCount),
    )


def restart(item: WebhookDeliveryItem, now: int, updated_at: str) -> bool:
    """Queue a finished delivery again (redelivery): a new round from the next attempt.
    False when it is still pending (nothing to do: it is being delivered)."""
    return condition_held(
        item.update,
        actions=[
            WebhookDeliveryItem.status.set("pending"),
            WebhookDeliveryItem.roundStart.set(item.attemptCount),
            WebhookDeliveryItem.nextAttemptAt.set(now),
            WebhookDeliveryItem.leaseUntil.remove(),
            WebhookDeliveryItem.updatedAt.set(updated_at),
            WebhookDeliveryItem.ttl.set(now + KEEP_SECONDS),
        ],
        condition=(
            WebhookDeliveryItem.status.is_in("succeeded", "failed")
            & (WebhookDeliveryItem.attemptCount == item.attemptCount)
        ),
    )


def newest(
    mode: str,
    tenant_id: str,
    *,
    since: str | None,
    status: str | None,
    event: str | None,
    limit: int,
) -> list[WebhookDeliveryItem]:
    """The tenant's deliveries, newest first, at most `limit` of them (filters applied)."""
    condition = None
    if status is not None:
        condition = WebhookDeliveryItem.status == status
    if event is not None:
        by_event = WebhookDeliveryItem.event == event
        condition = by_event if condition is None else condition & by_event
    range_condition = WebhookDeliveryItem.gsi1sk >= since if since is not None else None
    query = WebhookDeliveryItem.log_index.query(
        log_pk(mode, tenant_id),
        range_condition,
        filter_condition=condition,
        scan_index_forward=False,
    )
    found: list[WebhookDeliveryItem] = []
    for item in query:
        found.append(item)
        if len(found) >= limit:
            break
    return found


def every(mode: str, tenant_id: str, limit: int) -> list[WebhookDeliveryItem]:
    """Newest first, unfiltered (the local runtime's `/_local/webhooks`)."""
    return newest(mode, tenant_id, since=None, status=None, event=None, limit=limit)
