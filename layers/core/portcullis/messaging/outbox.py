"""The transactional outbox: messages written with a change, sent after it (DESIGN.md).

A change that must announce itself (webhook event) or tell someone (email, SMS) adds
an outbox item to the same DynamoDB transaction as the change. If the transaction
fails, nothing is sent; once it commits, the item is certain to be sent eventually:

- in AWS the `publisher` function receives each new item from the table's stream
  (`publish_stream_records`) and sends it at once;
- `drain_pending` sends whatever is due (new items locally, where the runtime calls
  it after every request and every 2 s; retries everywhere, from a schedule in AWS).

Each attempt claims the item with a lease (a conditional update), so two senders never
work on one item at the same time; delivery is at-least-once (a crash between the send
and the bookkeeping repeats the send; webhook receivers de-duplicate on `webhookId`).
A failed attempt is retried with growing delays for about two days, then the item is
marked failed and kept 30 days for inspection.

Emails and SMS carry link tokens and codes, so their content is envelope-encrypted with
KMS at rest and removed from the item once sent: a table dump reveals no credential.

A link or code message may carry its §5.5 record (`webhook=`, sealed with the rest).
At send time the tenant's settings decide (`_message_webhook`): when the message's
message-delivery URL is set, the record goes to it as a `message.send` webhook delivery
(webhooks/delivery.py: signed, 3 attempts in 2 minutes) instead of SES/SNS.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from importlib import import_module
from typing import Any

from portcullis.messaging import events
from portcullis.platform.timefmt import now_iso
from portcullis.store import outbox as store

log = logging.getLogger(__name__)

LEASE_SECONDS = 60
# Seconds to wait after the 1st, 2nd, ... failed attempt; one more failure after the
# last delay marks the item failed (≈ 2 days in all, like webhook retries, §5.4).
RETRY_DELAYS: tuple[int, ...] = (10, 30, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400)

# Follow-up work that must survive a crash, by name -> "module:function(**args)".
TASKS: dict[str, str] = {
    "tenant.cleanup": "portcullis.tenants.service:cleanup_deleted",
    "role.cleanup": "portcullis.users.roleassignments:remove_role_from_holders",
    "auth.send": "portcullis.auth.sendtask:run",
}

OutboxItem = store.OutboxItem


def _now() -> int:
    """Epoch seconds; one seam so tests can move the clock past a retry delay."""
    return int(time.time())


def _new_id() -> str:
    """Creation-time prefix, so items sort (and are drained) in the order written."""
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"


def _item(
    kind: str, payload: dict[str, Any], mode: str | None, tenant_id: str | None
) -> store.OutboxItem:
    outbox_id = payload.pop("_id", None) or _new_id()
    return store.new_item(
        outbox_id,
        kind,
        payload,
        mode=mode,
        tenant_id=tenant_id,
        created_at=now_iso(),
        next_attempt_at=_now(),
    )


def event_item(
    action: str,
    model: str,
    mode: str,
    record: dict[str, Any],
    *,
    tenant_id: str | None = None,
    ancestor_tenant_ids: Iterable[str] = (),
) -> store.OutboxItem:
    """A webhook event (`user.update`, ...) to add to the change's transaction.
    `tenantId` names the tenant whose webhook settings apply (the user's owning tenant,
    or the tenant itself); ancestors let the deliverer fall back to the nearest tenant
    that configured a URL (events.py)."""
    if action not in events.ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    owner = tenant_id or record.get("tenantId")
    detail = {
        "action": action,
        "model": model,
        "mode": mode,
        "record": record,
        "webhookId": str(uuid.uuid4()),
        "tenantId": owner,
        "ancestorTenantIds": list(ancestor_tenant_ids),
        "occurredAt": now_iso(),
    }
    payload = {"detailType": events.detail_type(model, action), "detail": detail}
    return _item("event", payload, mode, owner)


def _sealed(outbox_id: str, content: dict[str, Any]) -> dict[str, str]:
    from portcullis.tokens import envelope  # cryptography: only paid by code that sends messages

    return envelope.seal(json.dumps(content).encode("utf-8"), f"outbox:{outbox_id}").stored()


def _unsealed(item: store.OutboxItem) -> dict[str, Any]:
    from portcullis.tokens import envelope

    sealed = envelope.Sealed.from_stored(item.payload["sealed"])
    plain = envelope.open_sealed(sealed, f"outbox:{item.outboxId}")
    return dict(json.loads(plain))


def email_item(
    *,
    mode: str,
    tenant_id: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    sender: str,
    template: str | None = None,
    webhook: dict[str, Any] | None = None,
    ancestor_tenant_ids: Iterable[str] = (),
) -> store.OutboxItem:
    """An email to add to the change's transaction (render it with `mail.render`).
    `webhook` is its §5.5 record (type, link or code...), for a tenant that has the
    email delivered by its own webhook; the ancestors name the signing workspace."""
    outbox_id = _new_id()
    content: dict[str, Any] = {"subject": subject, "text": text, "html": html, "sender": sender}
    payload: dict[str, Any] = {"_id": outbox_id, "to": to, "template": template}
    _add_webhook(payload, content, webhook, ancestor_tenant_ids)
    payload["sealed"] = _sealed(outbox_id, content)
    return _item("email", payload, mode, tenant_id)


def sms_item(
    *,
    mode: str,
    tenant_id: str,
    to: str,
    message: str,
    sender_id: str | None = None,
    webhook: dict[str, Any] | None = None,
    ancestor_tenant_ids: Iterable[str] = (),
) -> store.OutboxItem:
    """An SMS (E.164 `to`) to add to the change's transaction (`webhook`: as for email)."""
    outbox_id = _new_id()
    content: dict[str, Any] = {"message": message, "senderId": sender_id}
    payload: dict[str, Any] = {"_id": outbox_id, "to": to}
    _add_webhook(payload, content, webhook, ancestor_tenant_ids)
    payload["sealed"] = _sealed(outbox_id, content)
    return _item("sms", payload, mode, tenant_id)


def _add_webhook(
    payload: dict[str, Any],
    content: dict[str, Any],
    webhook: dict[str, Any] | None,
    ancestor_tenant_ids: Iterable[str],
) -> None:
    """The record goes in the sealed content (it holds the link or code); its type and
    the tenant's ancestors stay readable, so the send can pick the URL before unsealing."""
    if webhook is None:
        return
    content["webhook"] = webhook
    payload["messageType"] = webhook["type"]
    payload["ancestorTenantIds"] = list(ancestor_tenant_ids)


def task_item(
    name: str, args: dict[str, Any], *, mode: str | None = None, tenant_id: str | None = None
) -> store.OutboxItem:
    """Follow-up work (see TASKS) that must run after the change commits, retried."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}")
    return _item("task", {"name": name, "args": args}, mode, tenant_id)


def enqueue(items: Iterable[store.OutboxItem]) -> None:
    """Write outbox items on their own (when there is no change to join)."""
    store.put_items(list(items))


# ------------------------------------------------------------------------- delivery


def _send(item: store.OutboxItem) -> dict[str, Any]:
    """Perform the item's side effect; returns the payload to keep afterwards."""
    payload = dict(item.payload or {})
    if item.kind == "event":
        event_id = events.put(str(payload["detailType"]), dict(payload["detail"]))
        return {**payload, "eventId": event_id}
    if item.kind in ("email", "sms"):
        routed = _message_webhook(item, payload)
        if routed is not None:
            return routed
    if item.kind == "email":
        from portcullis.messaging import mail

        suppressed = _suppressed(str(payload["to"]))
        if suppressed is not None:
            # Bounced or complained (docs/emails.md): not sent, and the item says why.
            return {"to": payload["to"], "template": payload.get("template"), **suppressed}
        content = _unsealed(item)
        message_id = mail.send(
            str(payload["to"]),
            content["subject"],
            content["text"],
            content["html"],
            content["sender"],
            mode=item.mode,
            tenant_id=item.tenantId,
        )
        return {"to": payload["to"], "template": payload.get("template"), "messageId": message_id}
    if item.kind == "sms":
        from portcullis.messaging import sms

        content = _unsealed(item)
        message_id = sms.send(
            str(payload["to"]), content["message"], sender_id=content.get("senderId")
        )
        return {"to": payload["to"], "messageId": message_id}
    if item.kind == "task":
        module_name, _, function_name = TASKS[str(payload["name"])].partition(":")
        getattr(import_module(module_name), function_name)(**dict(payload.get("args") or {}))
        return payload
    raise ValueError(f"unknown outbox kind {item.kind!r}")


def _message_webhook(item: store.OutboxItem, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Hand a link/code message to the tenant's §5.5 URL; what to keep, or None to send
    it by SES/SNS. The settings are read now (not when the request wrote the item), so
    request paths stay as they were and a URL removed meanwhile is honoured.

    Test mode never sends email or SMS: its items exist only for a tenant with a
    message URL, and one unset since then is kept as skipped."""
    message_type = payload.get("messageType")
    if not isinstance(message_type, str) or not item.tenantId or not item.mode:
        return None
    from portcullis.tenancy import settings as tenant_settings
    from portcullis.webhooks import delivery, secrets, targets

    settings = tenant_settings.read(item.mode, item.tenantId)
    url = targets.message_url_for(settings, item.kind, message_type)
    kept = {"to": payload.get("to"), "template": payload.get("template"), "type": message_type}
    if url is None:
        return {**kept, "skipped": "noMessageWebhook"} if item.mode == "test" else None
    record = dict(_unsealed(item)["webhook"])
    ancestors = [str(t) for t in payload.get("ancestorTenantIds") or []]
    webhook_id = delivery.queue_message(
        item.mode,
        item.tenantId,
        secrets.workspace_of(item.tenantId, ancestors),
        url,
        record,
        source_id=item.outboxId,
    )
    return {**kept, "webhookId": webhook_id}


def _suppressed(address: str) -> dict[str, str] | None:
    """Why an email to `address` must not be sent (it bounced or complained), or None."""
    from portcullis.store import emailstatus

    status = emailstatus.get(address)
    if status is None:
        return None
    return {"skipped": status.status, "skippedSince": status.at}


def _without_secrets(item: store.OutboxItem) -> dict[str, Any]:
    payload = dict(item.payload or {})
    payload.pop("sealed", None)
    return payload


def deliver(item: store.OutboxItem) -> bool:
    """One attempt at one item: claim, send, record the outcome. True when sent now."""
    at = _now()
    if not store.claim(item, at, LEASE_SECONDS):
        return False
    try:
        kept = _send(item)
    except Exception as exc:  # any failure of the send is retried, never raised
        attempts = int(item.attempts or 1)
        error = f"{type(exc).__name__}: {exc}"
        log.warning(
            "outbox delivery failed",
            extra={"outboxId": item.outboxId, "kind": item.kind, "attempt": attempts},
        )
        if attempts > len(RETRY_DELAYS):
            store.mark_failed(item, at, error, _without_secrets(item))
        else:
            store.mark_retry(item, at + RETRY_DELAYS[attempts - 1], error)
        return False
    store.mark_done(item, at, now_iso(), kept)
    return True


def drain_pending(limit: int = 100) -> int:
    """Send up to `limit` due items, oldest first; returns how many were sent.

    A task item (e.g. `auth.send`) writes its own messages, due at once: they go out in
    the same drain, in a further round, so one drain leaves nothing due that it caused
    (the local runtime drains before answering, and tests read the outbox right after)."""
    sent = 0
    while sent < limit:
        delivered = sum(1 for item in store.due(_now(), limit - sent) if deliver(item))
        if delivered == 0:
            break
        sent += delivered
    return sent


def publish_stream_records(records: Iterable[Mapping[str, Any]]) -> int:
    """Send the outbox items inserted in a DynamoDB stream batch (the AWS publisher).

    Items that fail stay pending with a retry time, so the batch itself never fails and
    the stream never blocks behind one undeliverable message.
    """
    sent = 0
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        image = (record.get("dynamodb") or {}).get("NewImage") or {}
        if (image.get("type") or {}).get("S") != "outbox":
            continue
        if deliver(store.from_stream_image(image)):
            sent += 1
    return sent
