"""EventBridge adapter and the webhook event envelope (concepts §5).

Every user and tenant change produces one event whose `Detail` is the webhook payload
`{action, model, mode, record}` plus routing fields the webhook deliverer needs
(`webhookId`, `tenantId`, `ancestorTenantIds`, `occurredAt`). `record` is the read
representation of the object, which never holds a secret. Events are not put on the
bus from request code: `outbox.event_item` builds the detail and writes it as an
outbox item with the change, and it is published after it commits.
"""

from __future__ import annotations

import json
import os
from typing import Any

from portcullis.platform import aws, config

# `end` and `session`: the opt-in session events (docs/webhooks.md "Session events").
ACTIONS = ("create", "update", "delete", "end")
MODELS = ("user", "tenant", "session")


class PublishError(Exception):
    """EventBridge refused the event; the outbox retries it later."""


def source() -> str:
    """The events' `source`: the deployment's name (concepts §5.4)."""
    return os.environ.get("EVENT_SOURCE", "portcullis")


def detail_type(model: str, action: str) -> str:
    """`user.create`, `tenant.delete`, ... (the event names of concepts §5.1)."""
    return f"{model}.{action}"


def put(detail_type_name: str, detail: dict[str, Any]) -> str:
    """Put one event on the service's bus; returns EventBridge's event id."""
    response = aws.client("events").put_events(
        Entries=[
            {
                "Source": source(),
                "DetailType": detail_type_name,
                "Detail": json.dumps(detail, separators=(",", ":"), default=str),
                "EventBusName": config.event_bus_name(),
            }
        ]
    )
    entries = response.get("Entries") or [{}]
    if response.get("FailedEntryCount") or not entries[0].get("EventId"):
        code = entries[0].get("ErrorCode") or "unknown"
        raise PublishError(f"PutEvents failed: {code} {entries[0].get('ErrorMessage') or ''}")
    return str(entries[0]["EventId"])
