"""Emails and SMS the service sent, as a developer (or a test) wants to read them.

They are read from the SES/SNS requests themselves rather than from moto's records,
because moto keeps only one body per email (the HTML when both parts exist) and tests
want the plain-text part too, for example to pull a link or code out of it.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import sys
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, TextIO


@dataclass(frozen=True)
class SentMessage:
    """One email or SMS. `to` joins several recipients with ", "."""

    channel: str
    to: str
    sender: str | None
    subject: str | None
    text: str | None
    html: str | None
    sent_at: str
    message_id: str | None
    # SES message tags (sesv2 `EmailTags`), kept for `/_local/ses/*` (sesevents.py).
    tags: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {
            "channel": data["channel"],
            "to": data["to"],
            "from": data["sender"],
            "subject": data["subject"],
            "text": data["text"],
            "html": data["html"],
            "sentAt": data["sent_at"],
            "messageId": data["message_id"],
        }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _members(form: Mapping[str, list[str]], prefix: str) -> list[str]:
    """Values of a query-protocol list (`Prefix.member.1`, `Prefix.member.2`, ...)."""
    members = []
    index = 1
    while f"{prefix}.member.{index}" in form:
        members.append(form[f"{prefix}.member.{index}"][0])
        index += 1
    return members


def _first(form: Mapping[str, list[str]], key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None


def _from_mime(
    raw: bytes, message_id: str | None, fallback_to: list[str], fallback_from: str | None
) -> SentMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    recipients = [str(parsed[h]) for h in ("To", "Cc") if parsed[h]] or fallback_to
    return SentMessage(
        channel="email",
        to=", ".join(recipients),
        sender=str(parsed["From"]) if parsed["From"] else fallback_from,
        subject=str(parsed["Subject"]) if parsed["Subject"] else None,
        text=text_part.get_content() if text_part is not None else None,  # type: ignore[attr-defined]
        html=html_part.get_content() if html_part is not None else None,  # type: ignore[attr-defined]
        sent_at=now_iso(),
        message_id=message_id,
    )


def from_ses_v1(form: Mapping[str, list[str]], message_id: str | None) -> SentMessage | None:
    """SES (query protocol) SendEmail / SendRawEmail / SendTemplatedEmail."""
    action = _first(form, "Action")
    source = _first(form, "Source")
    recipients = [
        *_members(form, "Destination.ToAddresses"),
        *_members(form, "Destination.CcAddresses"),
        *_members(form, "Destination.BccAddresses"),
    ]
    if action == "SendEmail":
        return SentMessage(
            channel="email",
            to=", ".join(recipients),
            sender=source,
            subject=_first(form, "Message.Subject.Data"),
            text=_first(form, "Message.Body.Text.Data"),
            html=_first(form, "Message.Body.Html.Data"),
            sent_at=now_iso(),
            message_id=message_id,
        )
    if action == "SendRawEmail":
        raw = base64.b64decode(_first(form, "RawMessage.Data") or "")
        return _from_mime(raw, message_id, _members(form, "Destinations"), source)
    if action == "SendTemplatedEmail":
        return SentMessage(
            channel="email",
            to=", ".join(recipients),
            sender=source,
            subject=f"[template {_first(form, 'Template')}]",
            text=_first(form, "TemplateData"),
            html=None,
            sent_at=now_iso(),
            message_id=message_id,
        )
    return None


def from_ses_v2(request: Mapping[str, Any], message_id: str | None) -> SentMessage | None:
    """SESv2 SendEmail (`POST /v2/email/outbound-emails`, REST-JSON)."""
    destination = request.get("Destination") or {}
    recipients = [
        *destination.get("ToAddresses", []),
        *destination.get("CcAddresses", []),
        *destination.get("BccAddresses", []),
    ]
    source = request.get("FromEmailAddress")
    content = request.get("Content") or {}
    if "Raw" in content:
        raw = base64.b64decode(content["Raw"].get("Data", ""))
        return _from_mime(raw, message_id, recipients, source)
    if "Simple" in content:
        simple = content["Simple"]
        body = simple.get("Body") or {}
        tags = tuple(
            (str(t.get("Name")), str(t.get("Value")))
            for t in request.get("EmailTags") or []
            if isinstance(t, dict)
        )
        return SentMessage(
            channel="email",
            to=", ".join(recipients),
            sender=source,
            subject=(simple.get("Subject") or {}).get("Data"),
            text=(body.get("Text") or {}).get("Data"),
            html=(body.get("Html") or {}).get("Data"),
            sent_at=now_iso(),
            message_id=message_id,
            tags=tags,
        )
    if "Template" in content:
        template = content["Template"]
        return SentMessage(
            channel="email",
            to=", ".join(recipients),
            sender=source,
            subject=f"[template {template.get('TemplateName') or template.get('TemplateArn')}]",
            text=template.get("TemplateData"),
            html=None,
            sent_at=now_iso(),
            message_id=message_id,
        )
    return None


def from_sns_publish(form: Mapping[str, list[str]], message_id: str | None) -> SentMessage | None:
    """SNS Publish: an SMS when sent to a phone number, otherwise a topic/endpoint message."""
    phone = _first(form, "PhoneNumber")
    target = phone or _first(form, "TopicArn") or _first(form, "TargetArn")
    if target is None:
        return None
    sender_id = None
    index = 1
    while f"MessageAttributes.entry.{index}.Name" in form:
        if _first(form, f"MessageAttributes.entry.{index}.Name") == "AWS.SNS.SMS.SenderID":
            sender_id = _first(form, f"MessageAttributes.entry.{index}.Value.StringValue")
        index += 1
    return SentMessage(
        channel="sms" if phone else "sns",
        to=target,
        sender=sender_id,
        subject=_first(form, "Subject"),
        text=_first(form, "Message"),
        html=None,
        sent_at=now_iso(),
        message_id=message_id,
    )


class MessageLog:
    """Thread-safe list of sent messages that also echoes each one to a stream."""

    def __init__(self, echo: TextIO | None = sys.stdout) -> None:
        self._lock = threading.Lock()
        self._messages: list[SentMessage] = []
        self._echo = echo

    def add(self, message: SentMessage) -> None:
        with self._lock:
            self._messages.append(message)
            if self._echo is not None:
                self._echo.write(format_message(message))
                self._echo.flush()

    def list(self, *, to: str | None = None, channel: str | None = None) -> list[SentMessage]:
        """Messages in send order; `to` matches any recipient case-insensitively."""
        with self._lock:
            messages = list(self._messages)
        if channel:
            messages = [m for m in messages if m.channel == channel]
        if to:
            wanted = to.lower()
            messages = [m for m in messages if wanted in m.to.lower()]
        return messages

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


def format_message(message: SentMessage) -> str:
    """A readable block for the terminal: who, what, and the body a human would see."""
    rule = "-" * 72
    lines = [rule, f"[{message.channel}] {message.sent_at}  to: {message.to}"]
    if message.sender:
        lines.append(f"from: {message.sender}")
    if message.subject:
        lines.append(f"subject: {message.subject}")
    lines.append("")
    lines.append(message.text if message.text is not None else (message.html or ""))
    lines.append(rule)
    return "\n".join(lines) + "\n"


def parse_json(body: bytes) -> Any:
    return json.loads(body.decode("utf-8")) if body else {}
