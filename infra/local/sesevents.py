"""Simulated SES bounces and complaints: `POST /_local/ses/bounce` and `/_local/ses/complaint`.

moto's SES never bounces, so a developer (or a test) says which address did:
`{"email": "someone@example.com"}`. This builds the event SES publishes for the
configuration set (the SES event-publishing JSON, with the `mail.tags` and `messageId`
of the last email sent to that address), wraps it in an SNS notification record and
invokes the functions the template subscribes to the configuration set's SNS topic:
the same handler, the same code path as in AWS, only the SES -> SNS hop is emulated.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.local.messages import MessageLog, now_iso

KINDS = {"bounce": "Bounce", "complaint": "Complaint"}


@dataclass(frozen=True)
class Subscriber:
    function_id: str
    topic_arn: str


def ses_event(kind: str, address: str, messages: MessageLog) -> dict[str, Any]:
    """The SES event (event publishing format) reporting `address`."""
    sent = [
        m
        for m in messages.list(to=address, channel="email")
        if address.lower() in (r.strip().lower() for r in m.to.split(","))
    ]
    last = sent[-1] if sent else None
    at = now_iso()
    mail: dict[str, Any] = {
        "timestamp": last.sent_at if last else at,
        "messageId": (last.message_id if last else None) or str(uuid.uuid4()),
        "source": (last.sender if last else None) or "",
        "destination": [address],
        "tags": {name: [value] for name, value in (last.tags if last else ())},
    }
    event: dict[str, Any] = {"eventType": KINDS[kind], "mail": mail}
    if kind == "bounce":
        event["bounce"] = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address, "status": "5.1.1"}],
            "timestamp": at,
            "feedbackId": str(uuid.uuid4()),
        }
    else:
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": address}],
            "complaintFeedbackType": "abuse",
            "timestamp": at,
            "feedbackId": str(uuid.uuid4()),
        }
    return event


def sns_event(topic_arn: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """A Lambda SNS event with one notification record carrying `message`."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": now_iso(),
                    "MessageAttributes": {},
                },
            }
        ]
    }


class SesEventSimulator:
    """Feeds simulated SES events to the template's subscribers of the SES event topics."""

    def __init__(
        self,
        messages: MessageLog,
        subscribers: Sequence[Subscriber],
        invoke: Callable[[str, dict[str, Any]], Any],
    ) -> None:
        self.messages = messages
        self.subscribers = list(subscribers)
        self.invoke = invoke

    def simulate(self, kind: str, body: Any) -> tuple[int, dict[str, Any]]:
        """(status, answer) of `POST /_local/ses/<kind>`."""
        if kind not in KINDS:
            return 404, {"message": f"Unknown SES event {kind!r}: bounce or complaint"}
        address = body.get("email") if isinstance(body, dict) else None
        if not isinstance(address, str) or "@" not in address or len(address) > 320:
            return 400, {"message": '"email" must be an email address'}
        if not self.subscribers:
            return 409, {"message": "No function is subscribed to the SES event topic"}
        event = ses_event(kind, address, self.messages)
        results = [
            self.invoke(s.function_id, sns_event(s.topic_arn, event)) for s in self.subscribers
        ]
        return 200, {"event": event, "results": results}
