"""Sending links and codes: send limits, the outbox items, and the §1.7 answer.

Nothing is sent from here: an email or SMS is an outbox item written in the same
transaction as the link or code it carries, and the publisher sends it afterwards.
Test mode writes no outbox item and answers with the link or code instead (api-client
§0.6), unless the tenant set a §5.5 message-delivery URL for that message: then the
item is written in both modes and the outbox hands it to the webhook (docs/webhooks.md).
Limits are counted for every target, known or not, so a 429 never tells whether an
address has an account.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from portcullis.auth.context import RATE_LIMITED, Request
from portcullis.messaging import mail, outbox
from portcullis.platform import durations
from portcullis.platform.timefmt import iso, now_iso
from portcullis.ratelimit import fixedwindow
from portcullis.store.outbox import OutboxItem
from portcullis.store.users import UserItem
from portcullis.webhooks import targets


def limit_send(req: Request, channel: str, target: str) -> None:
    """api-client §4: per target 5 per 15 min and one per 30 s; per IP 30 per 15 min."""
    limits = req.limits
    key = (req.mode, req.tenant_id, channel, target.strip().lower())
    fixedwindow.hit(
        "sendIntervalPerTarget", limits.sendIntervalPerTarget, *key, message=RATE_LIMITED
    )
    fixedwindow.hit("sendPerTarget", limits.sendPerTarget, *key, message=RATE_LIMITED)
    fixedwindow.hit(
        "sendPerIp", limits.sendPerIp, req.mode, req.tenant_id, req.ip, message=RATE_LIMITED
    )


def _variables(req: Request, user: UserItem | None, seconds: int, **extra: Any) -> dict[str, Any]:
    return {
        "workspace_name": req.tenant.name,
        "tenant_name": req.tenant.name,
        "user_name": user.name if user else "",
        "user_email": user.email if user else "",
        "user_username": user.username if user else "",
        "expires_in": durations.describe(seconds),
        **extra,
    }


CODE_TYPE = "verificationCode"


def writes_message(req: Request, channel: str, kind: str) -> bool:
    """Whether a send writes its email/SMS outbox item: always in live mode; in test
    mode only for a tenant that has this message delivered to its own webhook (§5.5).
    Reads the settings the request already holds (no extra DynamoDB call)."""
    return not req.is_test or targets.message_url_for(req.settings, channel, kind) is not None


def webhook_record(
    req: Request,
    user: UserItem | None,
    kind: str,
    channel: str,
    to: str,
    seconds: int,
    *,
    link: str | None = None,
    code: str | None = None,
    expires_at: str | None = None,
) -> dict[str, Any]:
    """The §5.5 `record` of a message, sealed in its outbox item until it is sent."""
    record: dict[str, Any] = {"type": kind, "channel": channel, "to": to}
    if link is not None:
        record["link"] = link
    if code is not None:
        record["verificationCode"] = code
    record["expiresAt"] = expires_at or iso(datetime.now(UTC) + timedelta(seconds=seconds))
    record["user"] = {
        "userId": int(user.userId) if user else None,
        "userUuid": user.userUuid if user else None,
        "email": user.email if user else None,
        "name": user.name if user else None,
    }
    record["tenant"] = {"tenantId": req.tenant_id, "name": req.tenant.name}
    return record


def email_item(
    req: Request,
    user: UserItem,
    template: str,
    to: str,
    seconds: int,
    **variables: Any,
) -> OutboxItem:
    """One rendered email (welcome, login, reset, verify, code) for the transaction."""
    subject, text, html = mail.render(
        template, _variables(req, user, seconds, **variables), mode=req.mode, tenant=req.tenant
    )
    return outbox.email_item(
        mode=req.mode,
        tenant_id=req.tenant_id,
        to=to,
        subject=subject,
        text=text,
        html=html,
        sender=mail.sender_for(req.mode, req.tenant),
        template=template,
        webhook=webhook_record(
            req,
            user,
            CODE_TYPE if template == "code" else template,
            "email",
            to,
            seconds,
            link=variables.get("link"),
            code=variables.get("verification_code"),
            expires_at=variables.get("expires_at"),
        ),
        ancestor_tenant_ids=req.tenant.ancestors,
    )


def sms_item(req: Request, user: UserItem | None, to: str, seconds: int, code: str) -> OutboxItem:
    message = mail.render_sms(
        "code",
        _variables(req, user, seconds, verification_code=code),
        mode=req.mode,
        tenant=req.tenant,
    )
    return outbox.sms_item(
        mode=req.mode,
        tenant_id=req.tenant_id,
        to=to,
        message=message,
        webhook=webhook_record(req, user, CODE_TYPE, "sms", to, seconds, code=code),
        ancestor_tenant_ids=req.tenant.ancestors,
    )


class Sent(NamedTuple):
    """What a send request answers: the delivery receipt, or the secret in test mode."""

    channel: str
    target: str
    link: str | None = None
    code: str | None = None

    def result(self, req: Request) -> dict[str, Any]:
        if self.channel == "sms":
            body: dict[str, Any] = {"channel": "sms", "phoneNumber": self.target}
        elif self.code is not None:
            body = {"channel": "email", "email": self.target}
        else:
            body = {"email": self.target}
        if req.is_test:
            if self.link is not None:
                body["link"] = self.link
            if self.code is not None:
                body["verificationCode"] = self.code
        else:
            # The message is queued, not yet handed to SES/SNS: this id names the request.
            body.update({"submittedAt": now_iso(), "messageId": str(uuid.uuid4())})
        return body


def answer(req: Request, sent: Sent) -> dict[str, Any]:
    return {"message": "OK", "result": sent.result(req)}
