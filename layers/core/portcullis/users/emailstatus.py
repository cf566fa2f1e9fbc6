"""Bounces and complaints from SES (concepts §6.3, docs/emails.md).

Every email goes out with the deployment's SES configuration set, tagged with the mode
and tenant it was sent for (`messaging/mail.send`). The set publishes bounce and
complaint events to an SNS topic; `EmailEventsFunction` hands each SNS record here.
For each reported address:

- the address is suppressed for the whole deployment (`store/emailstatus`): the outbox
  skips every later email to it and records why on the outbox item;
- the user with that address in the tagged tenant and mode gets `emailStatus`
  (`{"status": "bounced"|"complained", "at": ...}` on the User object), written with a
  `user.update` event in one transaction, like any other change of the user.

A transient (soft) bounce is not a reason to stop: only `Permanent` bounces and
complaints count. Locally, `POST /_local/ses/bounce` builds the same SNS record and
invokes the same function (infra/local).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from portcullis.platform.timefmt import now_iso
from portcullis.store import emailstatus as suppression
from portcullis.store import transactions
from portcullis.store import users as store
from portcullis.users.conflicts import retrying
from portcullis.users.lookups import reload
from portcullis.users.rendering import Renderer, event_item

log = logging.getLogger(__name__)

MODES = ("live", "test")
MAX_ADDRESS = 320


def _tag(mail: Mapping[str, Any], name: str) -> str | None:
    """SES event tags arrive as lists of values: `{"mode": ["live"]}`."""
    values = (mail.get("tags") or {}).get(name)
    if isinstance(values, list) and values and isinstance(values[0], str):
        return values[0]
    return values if isinstance(values, str) else None


def _report(message: Mapping[str, Any]) -> tuple[str, list[str], str, str | None] | None:
    """(status, addresses, when, detail) of a bounce or complaint event, else None."""
    kind = message.get("eventType") or message.get("notificationType")
    if kind == "Bounce":
        bounce = message.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return None  # a soft bounce: SES itself retries, the address may well work
        recipients = bounce.get("bouncedRecipients") or []
        detail: Any = f"{bounce.get('bounceType')}/{bounce.get('bounceSubType', '')}".rstrip("/")
        status, report = "bounced", bounce
    elif kind == "Complaint":
        complaint = message.get("complaint") or {}
        recipients = complaint.get("complainedRecipients") or []
        detail = complaint.get("complaintFeedbackType")
        status, report = "complained", complaint
    else:
        return None
    addresses = [
        str(r["emailAddress"])
        for r in recipients
        if isinstance(r, dict)
        and isinstance(r.get("emailAddress"), str)
        and 0 < len(r["emailAddress"]) <= MAX_ADDRESS
        and "@" in r["emailAddress"]
    ]
    at = report.get("timestamp") if isinstance(report.get("timestamp"), str) else now_iso()
    return status, addresses, str(at), detail if isinstance(detail, str) else None


def handle(message: Mapping[str, Any]) -> list[str]:
    """Apply one SES event (the SNS message, parsed); returns the addresses marked."""
    report = _report(message)
    if report is None:
        return []
    status, addresses, at, detail = report
    mail = message.get("mail")
    if not isinstance(mail, dict):
        mail = {}
    mode, tenant_id = _tag(mail, "mode"), _tag(mail, "tenantId")
    known = mode in MODES and bool(tenant_id)
    for address in addresses:
        if known:
            suppression.mark(address, status, at, detail, mode=mode, tenant_id=tenant_id)
            mark_user(str(mode), str(tenant_id), address, status, at)
        else:
            suppression.mark(address, status, at, detail)
    return addresses


def lift(address: str) -> suppression.EmailStatusItem | None:
    """Send to `address` again (an operator's decision, `python -m portcullis.admin
    email-status --clear`): drop the suppression and the `emailStatus` of the user it
    was reported for. Returns what was lifted, None when the address was not stopped."""
    item = suppression.get(address)
    if item is None:
        return None
    if item.mode in MODES and item.tenantId:
        mark_user(item.mode, item.tenantId, address, None, None)
    suppression.clear(address)
    return item


def mark_user(mode: str, tenant_id: str, address: str, status: str | None, at: str | None) -> bool:
    """Set `emailStatus` on the tenant's user with that address (`status` None: remove
    it); False if there is no such user."""
    user = store.get_by_email(mode, tenant_id, suppression.normalise(address))
    if user is None:
        return False
    renderer = Renderer.for_tenant(mode, tenant_id)
    current = user

    def attempt() -> store.UserItem:
        nonlocal current
        if not current.email or suppression.normalise(current.email) != suppression.normalise(
            address
        ):
            return current  # the user moved to another address meanwhile
        if status is None and current.emailStatus is None:
            return current  # nothing to remove
        marked = {"status": status, "at": at, "email": suppression.normalise(address)}
        changes: dict[str, Any] = {
            "emailStatus": marked if status is not None else None,
            "updatedAt": now_iso(),
        }
        for name, value in changes.items():
            setattr(current, name, value)
        try:
            transactions.commit(
                [event_item("update", current, renderer)],
                [
                    store.field_update(
                        current, changes, bump_version=True, expect={"email": current.email}
                    )
                ],
            )
        except transactions.WriteConflict as exc:
            current = reload(current)
            raise store.Changed() from exc
        return current

    retrying(attempt)
    return True


def handle_sns_records(records: Iterable[Mapping[str, Any]]) -> int:
    """Apply the SES events of an SNS batch; returns how many addresses were marked.

    A record that is not an SES event is logged and skipped: SNS would only retry it."""
    marked = 0
    for record in records:
        raw = (record.get("Sns") or {}).get("Message") if isinstance(record, Mapping) else None
        try:
            message = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            message = None
        if not isinstance(message, dict):
            log.warning("not an SES event notification; skipped")
            continue
        marked += len(handle(message))
    return marked
