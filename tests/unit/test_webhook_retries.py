"""The delivery state machine against moto with a loopback receiver and a movable clock
(`delivery._now`): the §5.4 schedule with jitter, early and stale messages, held leases."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

NOMINAL = (60, 300, 1800, 7200, 21_600, 43_200, 86_400)


@pytest.fixture
def receiver() -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"status": 503, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state["hits"] += 1
            self.send_response(state["status"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/in"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(aws: str, monkeypatch: pytest.MonkeyPatch, receiver: dict[str, Any]) -> dict[str, Any]:
    from portcullis.tenancy import settings
    from portcullis.webhooks import delivery

    sqs = boto3.client("sqs", endpoint_url=aws)
    queue = sqs.create_queue(QueueName=f"wh-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", queue)
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCALHOST", "true")
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.delenv("WEBHOOK_RETRY_DELAYS", raising=False)
    clock = {"now": delivery._now()}
    monkeypatch.setattr(delivery, "_now", lambda: clock["now"])
    tenant = f"t{uuid.uuid4().hex[:7]}"
    settings.update("test", tenant, {"userCreatedWebhookUrl": receiver["url"]})
    return {"sqs": sqs, "queue": queue, "clock": clock, "tenant": tenant}


def event(tenant: str) -> dict[str, Any]:
    return {
        "action": "create",
        "model": "user",
        "mode": "test",
        "record": {"userUuid": str(uuid.uuid4()), "tenantId": tenant},
        "webhookId": str(uuid.uuid4()),
        "tenantId": tenant,
        "ancestorTenantIds": [],
        "occurredAt": "2026-12-07T00:00:00.000Z",
    }


def queued(env: dict[str, Any]) -> int:
    counts = env["sqs"].get_queue_attributes(QueueUrl=env["queue"], AttributeNames=["All"])
    attributes = counts["Attributes"]
    return sum(
        int(attributes[name])
        for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed")
    )


def test_retries_follow_the_schedule_with_jitter_then_fail(
    env: dict[str, Any], receiver: dict[str, Any]
) -> None:
    from portcullis.store import webhookdeliveries as store
    from portcullis.webhooks import delivery

    detail = event(env["tenant"])
    assert delivery.handle_event(detail, "user.create") == "pending"
    waits = []
    for number in range(1, 8):
        item = store.get("test", detail["webhookId"])
        assert item is not None and item.attemptCount == number
        waits.append(int(item.nextAttemptAt) - env["clock"]["now"])
        env["clock"]["now"] = int(item.nextAttemptAt)
        expected = "pending" if number < 7 else "failed"
        message = {"webhookId": detail["webhookId"], "mode": "test", "attempt": number}
        assert delivery.handle_retry(message) == expected
    for wait, nominal in zip(waits, NOMINAL, strict=True):
        assert nominal * 0.8 - 1 <= wait <= nominal * 1.2 + 1
    item = store.get("test", detail["webhookId"])
    assert item is not None and item.status == "failed" and len(item.attempts) == 8
    assert receiver["hits"] == 8
    assert item.attempts[-1]["error"] == "retries exhausted"
    # A late copy of any message sends nothing more.
    assert (
        delivery.handle_retry({"webhookId": detail["webhookId"], "mode": "test", "attempt": 7})
        is None
    )
    assert delivery.handle_event(detail, "user.create") is None
    assert receiver["hits"] == 8


def test_an_early_message_is_passed_on_and_a_stale_one_requeues_the_current_attempt(
    env: dict[str, Any], receiver: dict[str, Any]
) -> None:
    from portcullis.store import webhookdeliveries as store
    from portcullis.webhooks import delivery

    detail = event(env["tenant"])
    delivery.handle_event(detail, "user.create")
    before = queued(env)
    early = {"webhookId": detail["webhookId"], "mode": "test", "attempt": 1}
    assert delivery.handle_retry(early) == "pending"
    assert receiver["hits"] == 1, "not due: no POST"
    assert queued(env) == before + 1, "passed on with the remaining delay"
    stale = {"webhookId": detail["webhookId"], "mode": "test", "attempt": 0}
    assert delivery.handle_retry(stale) == "pending"
    assert receiver["hits"] == 1
    assert queued(env) == before + 2
    item = store.get("test", detail["webhookId"])
    assert item is not None and item.attemptCount == 1
    receiver["status"] = 200
    env["clock"]["now"] = int(item.nextAttemptAt)
    assert delivery.handle_retry(early) == "succeeded"
    assert delivery.handle_retry(early) is None, "a duplicate of a made attempt sends nothing"
    assert receiver["hits"] == 2


def test_a_held_lease_is_left_to_sqs(env: dict[str, Any], receiver: dict[str, Any]) -> None:
    from portcullis.store import webhookdeliveries as store
    from portcullis.webhooks import delivery

    detail = event(env["tenant"])
    delivery.handle_event(detail, "user.create")
    item = store.get("test", detail["webhookId"])
    assert item is not None
    env["clock"]["now"] = int(item.nextAttemptAt)
    assert store.claim(item, 1, env["clock"]["now"], 60)  # another worker is on it
    with pytest.raises(delivery.AttemptBusy):
        delivery.handle_retry({"webhookId": detail["webhookId"], "mode": "test", "attempt": 1})
    assert receiver["hits"] == 1


def test_a_message_that_is_not_json_is_an_error_for_the_dead_letter_queue() -> None:
    from portcullis.webhooks import delivery

    with pytest.raises(ValueError):
        delivery.handle_message("not json")


def test_the_schedule_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from portcullis.webhooks import delivery

    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "1, 2,3")
    assert delivery.retry_delays() == (1, 2, 3)
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "1,soon")
    assert delivery.retry_delays() == delivery.RETRY_DELAYS
    assert json.loads(
        delivery.envelope_bytes({"action": "a", "model": "m", "mode": "test", "record": {}, "x": 1})
    ) == {
        "action": "a",
        "model": "m",
        "mode": "test",
        "record": {},
    }
