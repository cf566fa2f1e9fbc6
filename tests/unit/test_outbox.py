"""The transactional outbox against moto: delivery, sealing, claims, retries, the stream
publisher, follow-up tasks, and an invitation whose email SES refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

SENDER = "no-reply@example.com"


@pytest.fixture(scope="module")
def aws_ready(aws: str) -> Iterator[str]:
    """The session moto server plus the event bus and a verified default sender."""
    from portcullis.platform import config

    events = boto3.client("events", endpoint_url=aws)
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    if config.event_bus_name() not in names:
        events.create_event_bus(Name=config.event_bus_name())
    boto3.client("ses", endpoint_url=aws).verify_email_identity(EmailAddress=SENDER)
    yield aws


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A controllable `outbox._now`, starting at the real time."""
    import time

    from portcullis.messaging import outbox

    state = {"now": int(time.time())}
    monkeypatch.setattr(outbox, "_now", lambda: state["now"])
    return state


def sent_emails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def raw_item(outbox_id: str) -> dict[str, Any]:
    from portcullis.platform import config
    from portcullis.store.outbox import OUTBOX_SK, outbox_pk

    client = boto3.client("dynamodb")
    key = {"pk": {"S": outbox_pk(outbox_id)}, "sk": {"S": OUTBOX_SK}}
    return dict(
        client.get_item(TableName=config.table_name(), Key=key, ConsistentRead=True)["Item"]
    )


def drain_only(items: list[Any]) -> int:
    """Deliver just these items (other tests' items may be due in the same table)."""
    from portcullis.messaging import outbox

    return sum(1 for item in items if outbox.deliver(item))


def test_event_is_put_on_the_bus_and_marked_done(aws_ready: str, clock: dict[str, int]) -> None:
    from portcullis.messaging import outbox
    from portcullis.store import outbox as store

    item = outbox.event_item("create", "user", "test", {"userId": 1, "tenantId": "abcdefgh"})
    outbox.enqueue([item])
    assert item.gsi1pk and item.gsi1pk.startswith("OUTBOX#PENDING#")
    assert drain_only([item]) == 1
    done = store.get(item.outboxId)
    assert done is not None
    assert done.status == "done"
    assert done.gsi1pk is None and done.leaseUntil is None
    assert done.ttl == clock["now"] + store.DONE_TTL_SECONDS
    assert done.payload["eventId"]
    assert done.payload["detail"]["record"] == {"userId": 1, "tenantId": "abcdefgh"}
    assert int(done.attempts) == 1
    # Delivering again is refused: the item is no longer pending.
    assert outbox.deliver(done) is False


def test_email_content_is_sealed_at_rest_and_dropped_after_sending(
    aws_ready: str, clock: dict[str, int]
) -> None:
    from portcullis.messaging import outbox
    from portcullis.store import outbox as store

    secret_link = "https://app.example.com/login?uuid=u&token=SECRET-TOKEN-123"
    item = outbox.email_item(
        mode="live",
        tenant_id="abcdefgh",
        to="jane@example.com",
        subject="Hi",
        text=f"Use {secret_link}",
        html=f"<a href='{secret_link}'>x</a>",
        sender=SENDER,
    )
    outbox.enqueue([item])
    assert "SECRET-TOKEN-123" not in json.dumps(raw_item(item.outboxId))
    before = len(sent_emails())
    assert drain_only([item]) == 1
    messages = sent_emails()[before:]
    assert len(messages) == 1
    assert messages[0].destinations["ToAddresses"] == ["jane@example.com"]
    done = store.get(item.outboxId)
    assert done is not None and done.status == "done"
    assert "sealed" not in done.payload and done.payload["messageId"]
    assert "SECRET-TOKEN-123" not in json.dumps(raw_item(item.outboxId))


def test_failures_are_retried_with_backoff_then_marked_failed(
    aws_ready: str, clock: dict[str, int]
) -> None:
    from portcullis.messaging import outbox
    from portcullis.store import outbox as store

    item = outbox.email_item(
        mode="live",
        tenant_id="abcdefgh",
        to="x@example.com",
        subject="s",
        text="t",
        html="h",
        sender="unverified@nowhere.example",
    )
    outbox.enqueue([item])
    assert outbox.deliver(item) is False
    pending = store.get(item.outboxId)
    assert pending is not None and pending.status == "pending"
    assert int(pending.nextAttemptAt) == clock["now"] + outbox.RETRY_DELAYS[0]
    assert pending.lastError and "MessageRejected" in pending.lastError
    assert pending.leaseUntil is None
    assert item.outboxId not in store.ids(store.due(clock["now"], 1000))
    clock["now"] += outbox.RETRY_DELAYS[0]
    assert item.outboxId in store.ids(store.due(clock["now"], 1000))
    for delay in outbox.RETRY_DELAYS[1:]:
        current = store.get(item.outboxId)
        assert current is not None
        assert outbox.deliver(current) is False
        clock["now"] += delay
    last = store.get(item.outboxId)
    assert last is not None
    assert outbox.deliver(last) is False
    failed = store.get(item.outboxId)
    assert failed is not None
    assert failed.status == "failed"
    assert int(failed.attempts) == len(outbox.RETRY_DELAYS) + 1
    assert failed.gsi1pk is None and "sealed" not in failed.payload
    assert failed.ttl == clock["now"] + store.FAILED_TTL_SECONDS


def test_a_claimed_item_is_not_sent_twice(aws_ready: str, clock: dict[str, int]) -> None:
    from portcullis.messaging import outbox
    from portcullis.store import outbox as store

    item = outbox.event_item("update", "tenant", "test", {"tenantId": "abcdefgh"})
    outbox.enqueue([item])
    twin = store.get(item.outboxId)
    assert store.claim(item, clock["now"], outbox.LEASE_SECONDS) is True
    assert twin is not None and outbox.deliver(twin) is False
    # Once the lease runs out (a sender crashed), another sender may take over.
    clock["now"] += outbox.LEASE_SECONDS + 1
    again = store.get(item.outboxId)
    assert again is not None and outbox.deliver(again) is True


def test_drain_sends_due_items_in_creation_order(aws_ready: str, clock: dict[str, int]) -> None:
    from portcullis.messaging import outbox
    from portcullis.store import outbox as store

    items = [outbox.event_item("create", "user", "test", {"n": n}) for n in range(5)]
    outbox.enqueue(items)
    due_ids = store.ids(store.due(clock["now"], 10_000))
    positions = [due_ids.index(item.outboxId) for item in items]
    assert positions == sorted(positions)
    assert outbox.drain_pending(limit=10_000) >= 5
    assert all(store.get(i.outboxId).status == "done" for i in items)  # type: ignore[union-attr]


def test_stream_publisher_sends_new_outbox_items_only(
    aws_ready: str, clock: dict[str, int]
) -> None:
    from portcullis.messaging import outbox
    from portcullis.store import outbox as store

    item = outbox.event_item("delete", "user", "live", {"userId": 9})
    outbox.enqueue([item])
    image = item.serialize()
    records = [
        {"eventName": "INSERT", "dynamodb": {"NewImage": image}},
        {"eventName": "MODIFY", "dynamodb": {"NewImage": image}},
        {"eventName": "INSERT", "dynamodb": {"NewImage": {"type": {"S": "user"}}}},
        {"eventName": "REMOVE", "dynamodb": {}},
    ]
    assert outbox.publish_stream_records(records) == 1
    assert store.get(item.outboxId).status == "done"  # type: ignore[union-attr]
    assert outbox.publish_stream_records(records[:1]) == 0


def test_publisher_function_handles_streams_and_schedules(
    aws_ready: str, clock: dict[str, int]
) -> None:
    import importlib.util
    from pathlib import Path

    from portcullis.messaging import outbox

    path = Path(__file__).resolve().parents[2] / "functions" / "publisher" / "app.py"
    spec = importlib.util.spec_from_file_location("publisher_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Context:
        function_name = "publisher"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:publisher"
        aws_request_id = "req"

    item = outbox.event_item("create", "tenant", "test", {"tenantId": "abcdefgh"})
    outbox.enqueue([item])
    stream = {"Records": [{"eventName": "INSERT", "dynamodb": {"NewImage": item.serialize()}}]}
    assert module.lambda_handler(stream, Context()) == {"sent": 1}
    scheduled = module.lambda_handler({"source": "aws.events"}, Context())
    assert scheduled["sent"] >= 0


def test_unknown_tasks_are_refused_when_written() -> None:
    from portcullis.messaging import outbox

    with pytest.raises(ValueError, match="unknown task"):
        outbox.task_item("nope", {})


def test_role_cleanup_task_is_queued_with_the_deletion(
    aws_ready: str, clock: dict[str, int]
) -> None:
    from portcullis.access import roles
    from portcullis.store import outbox as store
    from portcullis.tenants import service as tenants
    from portcullis.users import lookups, roleassignments
    from portcullis.users import service as users

    tenant = tenants.create("test", "Roles unit")
    roles.create("test", tenant, "Temp")
    user = users.register("test", tenant, {"email": "temp@example.com"}, role_names=["Temp"])
    result = roleassignments.delete_role("test", tenant, "Temp")
    assert result["result"] == {"name": "Temp", "usersUpdated": 1}
    tasks = [
        i
        for i in store.due(clock["now"], 10_000)
        if i.kind == "task" and i.payload.get("args", {}).get("tenant_id") == tenant.tenantId
    ]
    assert len(tasks) == 1
    assert drain_only(tasks) == 1  # the clean-up already ran: the task is a no-op now
    assert lookups.reload(user).roles == {}


def test_an_invitation_whose_email_ses_refuses_keeps_the_user(
    aws_ready: str, clock: dict[str, int]
) -> None:
    from portcullis.messaging import outbox, senders
    from portcullis.store import outbox as store
    from portcullis.store import users as user_store
    from portcullis.tenancy import settings
    from portcullis.tenants import service as tenants
    from portcullis.users import invitations

    tenant = tenants.create("live", "Invites unit")
    senders.allow_domain(tenant.tenantId, "invites.example")
    settings.update("live", tenant.tenantId, {"senderEmail": "unverified@invites.example"})
    invitation = invitations.invite("live", tenant, {"email": "guest@example.com"})
    assert invitation.emailed is True
    assert user_store.get_by_email("live", tenant.tenantId, "guest@example.com") is not None
    emails = [
        i
        for i in store.due(clock["now"], 10_000)
        if i.kind == "email" and i.payload.get("to") == "guest@example.com"
    ]
    assert len(emails) == 1
    assert outbox.deliver(emails[0]) is False
    # The user is still there; once the sender is verified, the retry goes out.
    boto3.client("ses").verify_email_identity(EmailAddress="unverified@invites.example")
    clock["now"] += outbox.RETRY_DELAYS[0]
    retry = store.get(emails[0].outboxId)
    assert retry is not None
    before = len(sent_emails())
    assert outbox.deliver(retry) is True
    sent = sent_emails()[before:]
    assert len(sent) == 1 and sent[0].source == "unverified@invites.example"
    assert user_store.get_by_email("live", tenant.tenantId, "guest@example.com") is not None
