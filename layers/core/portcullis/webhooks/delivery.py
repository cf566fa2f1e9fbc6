"""Delivering webhook events to the URL a tenant configured (concepts §5.2–5.4).

The path (docs/webhooks.md "Delivery"): an EventBridge rule copies every `user.*`,
`tenant.*` and `session.*` event to an SQS queue; the `webhookdelivery` function reads
it and calls `handle_message` for each message. The first copy of an event creates the
delivery record (id = the event's `webhookId`, so a duplicate finds it) and makes
attempt 0. A retryable failure (network error, 408, 429, 5xx) schedules the next
attempt by sending a new, delayed message `{webhookId, mode, attempt}` to the same
queue; a message that arrives before its attempt is due (SQS delays are at most 15
minutes) is sent on again with the remaining delay. Each attempt is claimed on the
record by its number, so a duplicated message never repeats an attempt, and never
re-sends a delivery that succeeded or failed.

The POST itself, to the approved address only, is `transport.py`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from portcullis.platform import aws, integers
from portcullis.platform.errors import BadRequest
from portcullis.platform.identifiers import UUID_PATTERN
from portcullis.platform.timefmt import iso, now_iso, parse_iso
from portcullis.search.envelope import list_envelope
from portcullis.store import webhookdeliveries as store
from portcullis.tenancy import settings as tenant_settings
from portcullis.webhooks import bearer, secrets, signing, targets

log = logging.getLogger(__name__)

# Seconds before the 2nd, 3rd, ... attempt (concepts §5.4): 8 attempts in about 2 days.
RETRY_DELAYS: tuple[int, ...] = (60, 300, 1800, 7200, 21_600, 43_200, 86_400)
JITTER = 0.2  # each delay is drawn from ±20 % of its nominal value
LEASE_SECONDS = 60
SQS_MAX_DELAY = 900
DETAIL_TYPES = frozenset(
    {
        "user.create",
        "user.update",
        "user.delete",
        "tenant.create",
        "tenant.update",
        "tenant.delete",
        "session.create",
        "session.end",
    }
)

# §5.5 message deliveries (`message.send`, written by the outbox, never by EventBridge):
# 3 attempts within 2 minutes, so a code or link arrives while it is still useful.
MESSAGE_EVENT = "message.send"
MESSAGE_RETRY_DELAYS: tuple[int, ...] = (20, 60)
MESSAGE_NAMESPACE = uuid.UUID("5f0c2b0e-9a51-4d7e-8f3c-3f1f5b7c2a11")
LISTED_EVENTS = DETAIL_TYPES | {MESSAGE_EVENT}
# Fields of a message record that carry the credential: sealed at rest, never listed.
SECRET_FIELDS = ("link", "verificationCode")

Status = Literal["pending", "succeeded", "failed"]


def _now() -> int:
    """Epoch seconds; one seam so tests can move the clock past a retry delay."""
    return int(time.time())


def retry_delays() -> tuple[int, ...]:
    """The schedule; `WEBHOOK_RETRY_DELAYS` (comma-separated seconds) replaces it where a
    deployment sets it: the local runtime's tests use a schedule of seconds."""
    raw = os.environ.get("WEBHOOK_RETRY_DELAYS", "").strip()
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        return RETRY_DELAYS
    return tuple(int(part) for part in parts)


def message_retry_delays() -> tuple[int, ...]:
    """The message schedule: 2 retries (3 attempts). Where a deployment shortens the
    event schedule (`WEBHOOK_RETRY_DELAYS`, the local runtime's tests), its first two
    delays are used instead, so tests see all 3 attempts in seconds."""
    if os.environ.get("WEBHOOK_RETRY_DELAYS", "").strip():
        shortened = retry_delays()
        if shortened != RETRY_DELAYS:
            return (shortened + shortened)[: len(MESSAGE_RETRY_DELAYS)]
    return MESSAGE_RETRY_DELAYS


def _jittered(seconds: int) -> int:
    if seconds <= 1:
        return seconds
    return max(1, round(seconds * random.uniform(1 - JITTER, 1 + JITTER)))  # noqa: S311


def queue_url() -> str:
    return os.environ.get("WEBHOOK_QUEUE_URL", "")


# -- from an event to a delivery ---------------------------------------------------------


def target_of(detail: Mapping[str, Any]) -> tuple[str, str] | None:
    """(tenant, url) that receives the event: its tenant's URL for that event, else
    the nearest ancestor's (the workspace configures most); None when none is set."""
    mode = str(detail.get("mode") or "")
    model, action = str(detail.get("model") or ""), str(detail.get("action") or "")
    owners = [detail.get("tenantId"), *(detail.get("ancestorTenantIds") or [])]
    for tenant_id in owners:
        if not isinstance(tenant_id, str) or not tenant_id:
            continue
        url = targets.url_for(tenant_settings.read(mode, tenant_id), model, action)
        if url:
            return tenant_id, url
    return None


def envelope_bytes(detail: Mapping[str, Any]) -> str:
    """The §5.2 body: exactly what is signed and sent, stored so retries send it again."""
    envelope = {
        "action": detail.get("action"),
        "model": detail.get("model"),
        "mode": detail.get("mode"),
        "record": detail.get("record"),
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=str)


def handle_event(detail: Mapping[str, Any], detail_type: str) -> Status | None:
    """The first (or a duplicate) copy of an event: create the delivery, try it."""
    webhook_id, mode = detail.get("webhookId"), detail.get("mode")
    if not isinstance(webhook_id, str) or mode not in ("live", "test"):
        log.warning("webhook event without webhookId/mode dropped")
        return None
    if detail_type not in DETAIL_TYPES:
        return None
    target = target_of(detail)
    if target is None:
        return None
    tenant_id, url = target
    item, created = store.create(
        webhook_id=webhook_id,
        tenant_id=tenant_id,
        event_tenant_id=detail.get("tenantId") if isinstance(detail.get("tenantId"), str) else None,
        workspace_id=secrets.workspace_of(
            str(detail.get("tenantId")),
            [t for t in detail.get("ancestorTenantIds") or [] if isinstance(t, str)],
        ),
        mode=mode,
        event=detail_type,
        url=url,
        body=envelope_bytes(detail),
        created_at=now_iso(),
        now=_now(),
        lease_seconds=LEASE_SECONDS,
    )
    return attempt(item, 0, claimed=created)


def _message_context(webhook_id: str) -> str:
    return f"whdelivery:{webhook_id}"


def queue_message(
    mode: str,
    tenant_id: str,
    workspace_id: str,
    url: str,
    record: dict[str, Any],
    *,
    source_id: str,
) -> str:
    """A §5.5 message (login link, code...) for the tenant's message-delivery URL: the
    delivery record is created and attempt 0 is queued to the webhook queue, so it is
    made by the `webhookdelivery` function like any event's. Returns the webhookId.

    The record keeps two bodies: `body`, the envelope with the link/code replaced by
    `"[redacted]"` (what the admin listing shows), and `sealedBody`, the exact bytes to
    send, KMS-sealed; `sealedBody` is removed when the delivery succeeds or fails.

    The webhookId is derived from `source_id` (the outbox item's id): the outbox sends
    at least once, and a repeated send finds the delivery the first one created (one
    `X-Webhook-Id`, attempts claimed by number) instead of starting a second one."""
    from portcullis.tokens import envelope  # cryptography: only paid by code that sends

    webhook_id = str(uuid.uuid5(MESSAGE_NAMESPACE, f"{mode}:{source_id}"))
    full = {"action": "send", "model": "message", "mode": mode, "record": record}
    shown = {
        **full,
        "record": {k: ("[redacted]" if k in SECRET_FIELDS else v) for k, v in record.items()},
    }
    sealed = envelope.seal(
        json.dumps(full, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"),
        _message_context(webhook_id),
    )
    item, created = store.create(
        webhook_id=webhook_id,
        tenant_id=tenant_id,
        event_tenant_id=tenant_id,
        workspace_id=workspace_id,
        mode=mode,
        event=MESSAGE_EVENT,
        url=url,
        body=json.dumps(shown, separators=(",", ":"), ensure_ascii=False, default=str),
        sealed_body=sealed.stored(),
        created_at=now_iso(),
        now=_now(),
        lease_seconds=0,
    )
    if created or (item.status == "pending" and item.attemptCount == 0):
        schedule(item, 0, 0)  # a repeat re-queues attempt 0 only if it is not made yet
    return webhook_id


def _body_of(item: store.WebhookDeliveryItem) -> bytes | None:
    """The bytes to sign and send: the stored body, or a message's sealed one (None once
    a message's content is dropped: nothing left to send)."""
    if item.sealedBody is None:
        return None if item.event == MESSAGE_EVENT else item.body.encode("utf-8")
    from portcullis.tokens import envelope

    sealed = envelope.Sealed.from_stored(item.sealedBody)
    return envelope.open_sealed(sealed, _message_context(item.webhookId))


def handle_retry(message: Mapping[str, Any]) -> Status | None:
    """A scheduled attempt (or a redelivery): made when due, else passed on delayed."""
    mode, webhook_id, number = message.get("mode"), message.get("webhookId"), message.get("attempt")
    if not isinstance(webhook_id, str) or not isinstance(mode, str) or not isinstance(number, int):
        return None
    item = store.get(mode, webhook_id)
    if item is None:
        return None
    return attempt(item, number)


class AttemptBusy(Exception):
    """Another worker holds this attempt's lease. The message is reported as failed, so
    SQS offers it again after the queue's visibility timeout (longer than the lease): by
    then the attempt is recorded (the copy is dropped) or its worker died (it is made)."""


def attempt(
    item: store.WebhookDeliveryItem, number: int, *, claimed: bool = False
) -> Status | None:
    """Make attempt `number` if this worker wins it (or `claimed` it when creating the
    delivery); record it; schedule the next one."""
    now = _now()
    if item.status != "pending":
        return None  # over: a late copy sends nothing
    if item.attemptCount > number:
        # A stale copy of an attempt already made. Queue the current attempt again: if
        # the worker that made it died before queueing the next one, this copy (SQS
        # offers an unanswered message again) keeps the delivery going; a duplicate
        # message is harmless, attempts are claimed by number.
        schedule(item, int(item.attemptCount), int(item.nextAttemptAt) - now)
        return "pending"
    if item.attemptCount < number:
        return None  # cannot happen: attempt numbers are queued after they are recorded
    if not claimed and item.nextAttemptAt > now:
        schedule(item, number, int(item.nextAttemptAt) - now)
        return "pending"
    if not claimed and not store.claim(item, number, now, LEASE_SECONDS):
        current = store.get(item.mode, item.webhookId)
        if current is not None and current.status == "pending" and current.attemptCount == number:
            raise AttemptBusy(item.webhookId)
        return None
    timestamp = _now()
    body = _body_of(item)
    if body is None:
        return None
    headers = signing.headers(
        item.webhookId,
        timestamp,
        body,
        secrets.signing_secrets(item.mode, item.workspaceId),
        # The newest webhook key of the tenant whose setting named the URL (§5.3).
        bearer.bearer_key(item.mode, item.tenantId),
    )
    # httpx is imported only by code that POSTs: the admin function never pays for it.
    from portcullis.webhooks import transport

    result = transport.post(item.url, item.mode, body, headers)
    result.record["attempt"] = number + 1
    status: Status = result.outcome
    delays = message_retry_delays() if item.event == MESSAGE_EVENT else retry_delays()
    in_round = number - int(item.roundStart)
    next_at = 0
    if status == "pending":
        if in_round >= len(delays):
            status = "failed"
            result.record.setdefault("error", "retries exhausted")
        else:
            next_at = _now() + _jittered(delays[in_round])
    store.record_attempt(
        item,
        result.record,
        status=status,
        next_attempt_at=next_at,
        now=_now(),
        updated_at=now_iso(),
        drop_sealed=status != "pending",
    )
    if status == "pending":
        schedule(item, number + 1, next_at - _now())
    return status


def schedule(item: store.WebhookDeliveryItem, number: int, wait: int) -> None:
    """Queue attempt `number`, delayed by `wait` seconds (SQS allows 15 minutes at most;
    a longer wait is covered by passing the message on when it arrives early)."""
    message = {"webhookId": item.webhookId, "mode": item.mode, "attempt": number}
    aws.client("sqs").send_message(
        QueueUrl=queue_url(),
        MessageBody=json.dumps(message),
        DelaySeconds=max(0, min(SQS_MAX_DELAY, wait)),
    )


def handle_message(body: str) -> Status | None:
    """One SQS message: an EventBridge event (from the rule) or a scheduled attempt."""
    message = json.loads(body)
    if not isinstance(message, dict):
        return None
    if "detail-type" in message and isinstance(message.get("detail"), dict):
        return handle_event(message["detail"], str(message["detail-type"]))
    return handle_retry(message)


# -- the admin API -----------------------------------------------------------------------


def delivery_json(item: store.WebhookDeliveryItem) -> dict[str, Any]:
    """A delivery as the admin API shows it (the body is the event the receiver got)."""
    try:
        payload = json.loads(item.body)
    except ValueError:
        payload = None
    return {
        "webhookId": item.webhookId,
        "tenantId": item.tenantId,
        "eventTenantId": item.eventTenantId,
        "mode": item.mode,
        "event": item.event,
        "url": item.url,
        "status": item.status,
        "attempts": list(item.attempts),
        "nextAttemptAt": (
            time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(item.nextAttemptAt)))
            if item.status == "pending" and item.nextAttemptAt
            else None
        ),
        "createdAt": item.createdAt,
        "updatedAt": item.updatedAt,
        "payload": payload,
    }


def redeliver(mode: str, tenant_id: str, webhook_id: str) -> store.WebhookDeliveryItem | None:
    """Queue a finished delivery of `tenant_id` again, same webhookId; None when there is
    no such delivery of this tenant. A pending one is left as it is (already queued)."""
    if not re.match(UUID_PATTERN, webhook_id):
        return None
    item = store.get(mode, webhook_id.lower())
    if item is None or item.tenantId != tenant_id:
        return None
    if item.status != "pending":
        if item.event == MESSAGE_EVENT:
            # Its link or code was dropped when it finished (and has expired since).
            raise BadRequest("a message delivery cannot be redelivered: send a new message")
        if not store.restart(item, _now(), now_iso()):
            return store.get(mode, webhook_id)
        item = store.get(mode, webhook_id) or item
        schedule(item, int(item.attemptCount), 0)
    return item


LIST_READ_LIMIT = 1000  # newest matching deliveries one listing reads (30 days are kept)


def listing(mode: str, tenant_id: str, params: Mapping[str, str] | None) -> dict[str, Any]:
    """`GET .../webhooks/deliveries`: newest first, filtered by `status`, `event` and
    `since` (an ISO time), paged with the list envelope (`page`, `limit`)."""
    params = params or {}
    status = params.get("status")
    if status is not None and status not in store.STATUSES:
        raise BadRequest('"status" must be one of pending, succeeded, failed')
    event = params.get("event")
    if event is not None and event not in LISTED_EVENTS:
        raise BadRequest('"event" must be a webhook event name such as user.create')
    since = params.get("since")
    if since is not None:
        try:
            since = iso(parse_iso(since))
        except ValueError:
            raise BadRequest('"since" must be an ISO 8601 time') from None
    page = integers.query_int(dict(params), "page", 1, maximum=10_000)
    limit = integers.query_int(dict(params), "limit", 20, maximum=100)
    found = store.newest(
        mode, tenant_id, since=since, status=status, event=event, limit=LIST_READ_LIMIT
    )
    window = found[(page - 1) * limit : page * limit]
    return list_envelope(
        [delivery_json(item) for item in window], len(found), page, limit, meta=True
    )
