"""Webhook delivery over HTTP (issue 11, concepts §5.2–5.4, docs/webhooks.md).

A real receiver (`http.server` on loopback, one thread per request) takes the POSTs the
local runtime makes through the same path as AWS: outbox -> EventBridge (moto) -> rule ->
SQS (moto) -> the webhookdelivery function. Retries wait seconds, not minutes: the test
fixtures give the runtime a schedule of 1-second delays (`PORTCULLIS_WEBHOOK_RETRY_DELAYS`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import pytest
from accesskit import api_key, child_tenant
from authkit import bearer, new_tenant, unique_email
from conformance import conforms

WAIT_SECONDS = 40.0
USER_URLS = ("userCreatedWebhookUrl", "userUpdatedWebhookUrl", "userDeletedWebhookUrl")
TENANT_URLS = ("tenantCreatedWebhookUrl", "tenantUpdatedWebhookUrl", "tenantDeletedWebhookUrl")


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["x-webhook-id"]

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Answers each POST with the next planned status (then `then`), records all."""

    plan: list[int] = field(default_factory=list)
    then: int = 200
    location: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.received.append(Received(headers, body))
            return self.plan.pop(0) if self.plan else self.then

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[ThreadingHTTPServer] = []

    def start(
        plan: list[int] | None = None, then: int = 200, location: str | None = None
    ) -> Receiver:
        state = Receiver(plan=list(plan or []), then=then, location=location)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = state.answer({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                if state.location is not None:
                    self.send_header("Location", state.location)
                answer = b'{"received":true}' + b"x" * 2000
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        state.server = server
        started.append(server)
        return state

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def wait_for(check: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def signing_secret(client: httpx.Client, workspace: Any) -> str:
    """The workspace's test-mode signing secret, from the rotation endpoint."""
    answer = client.post(
        f"/v0/tenants/{workspace.tenant_id}/webhooks/secret",
        headers=bearer(workspace.keys["test"]["admin"]),
    )
    assert answer.status_code == 200, answer.text
    conforms(answer)
    return str(answer.json()["secret"])


def verified(request: Received, secret: str) -> bool:
    """The receiver's side of docs/webhooks.md: v1 = HMAC-SHA256 of `{id}.{ts}.{body}`."""
    signed = f"{request.webhook_id}.{request.headers['x-webhook-timestamp']}.".encode()
    expected = "v1=" + hmac.new(secret.encode(), signed + request.body, hashlib.sha256).hexdigest()
    offered = [part.strip() for part in request.headers["x-webhook-signature"].split(",")]
    return any(hmac.compare_digest(expected, value) for value in offered)


def deliveries(client: httpx.Client, key: str, tenant_id: str, **params: str) -> dict[str, Any]:
    answer = client.get(
        f"/v0/tenants/{tenant_id}/webhooks/deliveries", params=params, headers=bearer(key)
    )
    assert answer.status_code == 200, answer.text
    conforms(answer)  # the answer is what docs/openapi.json declares
    return dict(answer.json())


def delivery_of(client: httpx.Client, key: str, tenant_id: str, webhook_id: str) -> dict[str, Any]:
    found = [
        d for d in deliveries(client, key, tenant_id)["results"] if d["webhookId"] == webhook_id
    ]
    assert len(found) == 1
    return found[0]


def create_user(client: httpx.Client, key: str, tenant_id: str) -> dict[str, Any]:
    made = client.post(
        f"/v0/tenants/{tenant_id}/users", json={"email": unique_email("wh")}, headers=bearer(key)
    )
    assert made.status_code == 200, made.text
    return dict(made.json())


def test_every_event_arrives_signed_across_an_outage(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    down_then_up = receiver(plan=[503, 503, 503])
    urls = {name: down_then_up.url for name in USER_URLS + TENANT_URLS}
    # Rotated before the tenant exists: its own tenant.create may be sent at once, and a
    # request signed before the rotation carries only the secret it replaced.
    secret = signing_secret(client, workspace)
    tenant_id = new_tenant(base_url, key, urls, name="Hooks")

    user = create_user(client, key, tenant_id)
    path = f"/v0/tenants/{tenant_id}/users/{user['userId']}"
    assert client.put(path, json={"name": "Renamed"}, headers=bearer(key)).status_code == 200
    assert client.delete(path, headers=bearer(key)).status_code == 200
    grandchild = child_tenant(client, key, tenant_id, name="Grandchild")
    changed = client.put(f"/v0/tenants/{grandchild}", json={"name": "G2"}, headers=bearer(key))
    assert changed.status_code == 200, changed.text
    assert client.delete(f"/v0/tenants/{grandchild}", headers=bearer(key)).status_code == 200

    wanted = {
        ("user", "create"),
        ("user", "update"),
        ("user", "delete"),
        ("tenant", "create"),
        ("tenant", "update"),
        ("tenant", "delete"),
    }

    def all_delivered() -> bool:
        ok = {
            (r.json()["model"], r.json()["action"])
            for r in down_then_up.requests()
            if r.json()["record"].get("userUuid") == user["userUuid"]
            or r.json()["record"].get("tenantId") == grandchild
        }
        succeeded = deliveries(client, key, tenant_id, status="succeeded")["totalCount"]
        return wanted <= ok and succeeded >= 6

    wait_for(all_delivered, "all six events")
    requests = down_then_up.requests()
    assert all(verified(r, secret) for r in requests), "every request carries a valid signature"
    assert all(r.headers["content-type"] == "application/json" for r in requests)
    bodies = [r.json() for r in requests]
    assert all(set(b) == {"action", "model", "mode", "record"} for b in bodies)
    assert all(b["mode"] == "test" for b in bodies)
    # The 503s were retried with the same X-Webhook-Id: an id that failed also arrived later.
    first_ids = [r.webhook_id for r in requests[:3]]
    assert len(requests) > len({r.webhook_id for r in requests})
    for webhook_id in first_ids:
        assert sum(r.webhook_id == webhook_id for r in requests) >= 2

    # Every attempt is logged: the retried one shows its 503s, then the 200. (The receiver
    # logs a request before the deliverer records its answer: wait for the record.)
    retried = wait_for(
        lambda: (
            (d := delivery_of(client, key, tenant_id, first_ids[0]))["status"] == "succeeded" and d
        ),
        "the retried delivery's record",
    )
    codes = [a["statusCode"] for a in retried["attempts"]]
    assert codes[-1] == 200 and 503 in codes
    assert retried["status"] == "succeeded"
    assert all(a["latencyMs"] >= 0 and len(a["response"]) <= 1024 for a in retried["attempts"])
    assert retried["attempts"][0]["response"].startswith('{"received":true}')
    # Filters: by event, and `since` in the future finds nothing.
    by_event = deliveries(client, key, tenant_id, event="user.delete")
    assert [d["event"] for d in by_event["results"]] == ["user.delete"]
    assert deliveries(client, key, tenant_id, since="2999-01-01T00:00:00Z")["totalCount"] == 0
    listed = deliveries(client, key, tenant_id, limit="2", page="1")
    assert listed["totalPages"] >= 3 and len(listed["results"]) == 2
    stamps = [d["createdAt"] for d in deliveries(client, key, tenant_id)["results"]]
    assert stamps == sorted(stamps, reverse=True), "newest first"


def test_nothing_configured_nothing_delivered(
    client: httpx.Client, workspace: Any, base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    tenant_id = new_tenant(base_url, key, name="Quiet")
    create_user(client, key, tenant_id)
    time.sleep(2.0)
    assert deliveries(client, key, tenant_id)["totalCount"] == 0
    assert client.get("/_local/webhooks", params={"tenantId": tenant_id}).json() == []


def _failed_once(
    client: httpx.Client, workspace: Any, base_url: str, status: int, receiver: Receiver
) -> tuple[str, dict[str, Any]]:
    key = workspace.keys["test"]["admin"]
    tenant_id = new_tenant(base_url, key, {"userCreatedWebhookUrl": receiver.url}, name="Fail")
    create_user(client, key, tenant_id)
    wait_for(lambda: receiver.requests(), "the first attempt")
    webhook_id = receiver.requests()[0].webhook_id
    found = wait_for(
        lambda: deliveries(client, key, tenant_id, status="failed")["results"], "failed status"
    )
    time.sleep(2.5)  # longer than the test schedule's retry delay: no retry may come
    assert len(receiver.requests()) == 1, f"a {status} is not retried"
    assert found[0]["webhookId"] == webhook_id
    assert [a["statusCode"] for a in found[0]["attempts"]] == [status]
    return tenant_id, found[0]


def test_a_400_is_not_retried(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    _failed_once(client, workspace, base_url, 400, receiver(then=400))


def test_a_410_fails_at_once_and_redelivery_sends_it_again(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    gone = receiver(then=410)
    tenant_id, failed = _failed_once(client, workspace, base_url, 410, gone)
    webhook_id = failed["webhookId"]
    logged = client.get("/_local/webhooks", params={"webhookId": webhook_id}).json()
    assert [d["status"] for d in logged] == ["failed"]
    assert [a["statusCode"] for a in logged[0]["attempts"]] == [410]

    gone.then = 200
    path = f"/v0/tenants/{tenant_id}/webhooks/deliveries/{webhook_id}/redeliver"
    again = client.post(path, headers=bearer(key))
    assert again.status_code == 200, again.text
    conforms(again)
    assert again.json()["webhookId"] == webhook_id
    wait_for(lambda: len(gone.requests()) == 2, "the redelivery")
    first, second = gone.requests()
    assert second.webhook_id == first.webhook_id == webhook_id
    assert second.body == first.body, "the same event bytes"
    done = wait_for(
        lambda: (
            delivery_of(client, key, tenant_id, webhook_id)["status"] == "succeeded"
            and delivery_of(client, key, tenant_id, webhook_id)
        ),
        "succeeded after redelivery",
    )
    assert [a["statusCode"] for a in done["attempts"]] == [410, 200]
    # A succeeded delivery may be redelivered too (same id again).
    assert client.post(path, headers=bearer(key)).status_code == 200
    wait_for(lambda: len(gone.requests()) == 3, "the second redelivery")
    assert gone.requests()[2].webhook_id == webhook_id


def test_retries_stop_after_eight_attempts(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    down = receiver(then=503)
    tenant_id = new_tenant(base_url, key, {"userCreatedWebhookUrl": down.url}, name="Down")
    create_user(client, key, tenant_id)
    found = wait_for(
        lambda: deliveries(client, key, tenant_id, status="failed")["results"], "failed"
    )
    assert len(down.requests()) == 8
    assert len({r.webhook_id for r in down.requests()}) == 1
    assert [a["statusCode"] for a in found[0]["attempts"]] == [503] * 8


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/", "http://169.254.169.254/latest/meta-data/"]
)
def test_a_redirect_is_never_followed(
    client: httpx.Client,
    workspace: Any,
    receiver: Callable[..., Receiver],
    base_url: str,
    target: str,
) -> None:
    key = workspace.keys["test"]["admin"]
    inner = receiver()
    location = target.format(port=inner.url.split(":")[2].split("/")[0])
    redirecting = receiver(then=302, location=location)
    tenant_id = new_tenant(base_url, key, {"userCreatedWebhookUrl": redirecting.url}, name="R")
    create_user(client, key, tenant_id)
    found = wait_for(
        lambda: deliveries(client, key, tenant_id, status="failed")["results"], "failed"
    )
    assert [a["statusCode"] for a in found[0]["attempts"]] == [302]
    assert found[0]["attempts"][0]["error"] == "redirect not followed"
    assert len(redirecting.requests()) == 1
    assert inner.requests() == [], "the redirect target is never contacted"


def test_the_delivery_log_is_for_admins_of_the_tenant_or_above(
    client: httpx.Client, workspace: Any, base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    mine = new_tenant(base_url, key, name="Mine")
    other = new_tenant(base_url, key, name="Other")
    other_admin = api_key(client, key, other)
    refused = client.get(f"/v0/tenants/{mine}/webhooks/deliveries", headers=bearer(other_admin))
    assert refused.status_code == 403
    readonly = api_key(client, key, mine, "readonly")
    assert (
        client.get(f"/v0/tenants/{mine}/webhooks/deliveries", headers=bearer(readonly)).status_code
        == 403
    )
    own = client.get(
        f"/v0/tenants/{mine}/webhooks/deliveries", headers=bearer(api_key(client, key, mine))
    )
    assert own.status_code == 200
    assert own.json()["totalCount"] == 0
    for params, field_name in (
        ({"status": "lost"}, '"status"'),
        ({"event": "user.explode"}, '"event"'),
        ({"since": "yesterday"}, '"since"'),
        ({"limit": "0"}, '"limit"'),
    ):
        bad = client.get(
            f"/v0/tenants/{mine}/webhooks/deliveries", params=params, headers=bearer(key)
        )
        assert bad.status_code == 400 and field_name in bad.json()["message"], bad.text
    unknown = client.post(
        f"/v0/tenants/{mine}/webhooks/deliveries/00000000-0000-4000-8000-000000000000/redeliver",
        headers=bearer(key),
    )
    assert unknown.status_code == 404


def test_a_duplicate_message_never_delivers_a_succeeded_event_again(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    """SQS delivers at least once: a second copy of the event finds the delivery by its
    webhookId and sends nothing, and a stale scheduled attempt is dropped too."""
    key = workspace.keys["test"]["admin"]
    up = receiver()
    tenant_id = new_tenant(base_url, key, {"userCreatedWebhookUrl": up.url}, name="Dup")
    user = create_user(client, key, tenant_id)
    wait_for(lambda: up.requests(), "the delivery")
    wait_for(
        lambda: deliveries(client, key, tenant_id, status="succeeded")["totalCount"] == 1,
        "succeeded",
    )
    events = client.get("/_local/events", params={"detailType": "user.create"}).json()
    [event] = [e for e in events if e["detail"]["record"].get("userUuid") == user["userUuid"]]
    environment = client.get("/_local/environment").json()
    sqs = boto3.client(
        "sqs",
        endpoint_url=environment["AWS_ENDPOINT_URL"],
        region_name=environment["AWS_DEFAULT_REGION"] or "us-east-1",
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"] or "testing",
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"] or "testing",
    )
    [queue] = [u for u in sqs.list_queues()["QueueUrls"] if u.endswith("WebhookQueue")]
    # The local runtime provisions the template's redrive policy (dead letters after 5).
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith("WebhookDeadLetterQueue")
    assert int(redrive["maxReceiveCount"]) == 5
    assert int(attributes["VisibilityTimeout"]) == 360
    copy = {
        "version": "0",
        "id": event["id"],
        "detail-type": "user.create",
        "detail": event["detail"],
    }
    stale = {"webhookId": event["detail"]["webhookId"], "mode": "test", "attempt": 0}
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(copy))
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(stale))

    def consumed() -> bool:
        counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        waiting = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        return sum(int(counts[name]) for name in waiting) == 0

    wait_for(consumed, "the copies to be consumed")
    time.sleep(1.5)
    assert len(up.requests()) == 1
    assert [
        a["statusCode"]
        for a in delivery_of(client, key, tenant_id, event["detail"]["webhookId"])["attempts"]
    ] == [200]


def test_the_receiving_tenants_newest_webhook_key_is_the_bearer(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    up = receiver()
    tenant_id = new_tenant(base_url, key, {"userCreatedWebhookUrl": up.url}, name="Bearer")
    webhook_key = api_key(client, key, tenant_id, "webhook")
    assert webhook_key.startswith("uf_test_webhook_")
    create_user(client, key, tenant_id)
    [request] = wait_for(lambda: up.requests(), "the delivery")
    assert request.headers["authorization"] == f"Bearer {webhook_key}"
    assert request.headers["user-agent"].startswith("Portcullis-Webhooks/")
