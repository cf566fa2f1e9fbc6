"""Message-delivery webhooks over HTTP (issue 11, concepts §5.5, docs/webhooks.md).

A tenant that sets `linkEmailWebhookUrl` / `verificationCodeSmsWebhookUrl` gets its
login links and codes POSTed to a receiver the test starts on loopback (test mode: the
local runtime allows loopback targets there), signed like every webhook, instead of an
email or SMS in `GET /_local/outbox`. The path is the real one: the outbox item (sealed)
-> a `message.send` delivery -> SQS (moto) -> the webhookdelivery function. Retries wait
seconds: the fixtures shorten the schedule (`PORTCULLIS_WEBHOOK_RETRY_DELAYS`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from authkit import bearer, claims, new_tenant, outbox, sign_up, tokens, unique_email, unique_phone
from test_webhook_delivery import (
    Received,
    Receiver,
    deliveries,
    signing_secret,
    verified,
    wait_for,
)
from test_webhook_delivery import receiver as loopback_receiver

receiver = loopback_receiver  # the fixture: a real HTTP server on loopback


def _delivery(client: httpx.Client, key: str, tenant_id: str, webhook_id: str) -> dict[str, Any]:
    found = deliveries(client, key, tenant_id, event="message.send")["results"]
    return next(d for d in found if d["webhookId"] == webhook_id)


def test_a_login_link_goes_to_the_webhook_instead_of_ses(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    hook = receiver()
    tenant_id = new_tenant(base_url, key, {"linkEmailWebhookUrl": hook.url}, name="Msg")
    secret = signing_secret(client, workspace)
    email = unique_email("msg")

    sent = client.post(f"/v0/tenants/{tenant_id}/auth/link", json={"email": email})
    assert sent.status_code == 200, sent.text
    link = sent.json()["result"]["link"]  # test mode still answers with the link

    (request,) = wait_for(hook.requests, "the message webhook")
    assert verified(request, secret)
    body = request.json()
    assert (body["action"], body["model"], body["mode"]) == ("send", "message", "test")
    record = body["record"]
    assert record["type"] == "welcome" and record["channel"] == "email"
    assert record["to"] == email and record["link"] == link
    assert record["expiresAt"].endswith("Z")
    assert record["user"]["email"] == email and record["user"]["userUuid"]
    assert record["tenant"]["tenantId"] == tenant_id
    assert outbox(client, email) == []  # SES sent nothing

    # A second send to the known address: a login link, also to the webhook.
    again = client.post(f"/v0/tenants/{tenant_id}/auth/link", json={"email": email})
    assert again.status_code == 200, again.text
    wait_for(lambda: len(hook.requests()) >= 2, "the login link")
    login = hook.requests()[1].json()["record"]
    assert login["type"] == "login" and login["link"] == again.json()["result"]["link"]

    # The admin log shows the delivery, without the link once it is over.
    done = _delivery(client, key, tenant_id, request.webhook_id)
    assert done["status"] == "succeeded" and done["event"] == "message.send"
    assert done["payload"]["record"]["link"] == "[redacted]"
    assert link not in str(done)
    assert outbox(client, email) == []


def test_an_sms_code_goes_to_the_webhook_instead_of_sns(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    hook = receiver()
    email_hook = receiver()
    settings = {
        "verificationCodeSmsWebhookUrl": hook.url,
        "linkEmailWebhookUrl": email_hook.url,
    }
    tenant_id = new_tenant(base_url, key, settings, name="Sms")
    secret = signing_secret(client, workspace)
    phone = unique_phone()

    sent = client.post(
        f"/v0/tenants/{tenant_id}/auth/code", json={"channel": "sms", "phoneNumber": phone}
    )
    assert sent.status_code == 200, sent.text
    code = sent.json()["result"]["verificationCode"]

    (request,) = wait_for(hook.requests, "the SMS webhook")
    assert verified(request, secret)
    record = request.json()["record"]
    assert record["type"] == "verificationCode" and record["channel"] == "sms"
    assert record["to"] == phone and record["verificationCode"] == code
    assert "link" not in record
    assert outbox(client, phone) == []
    assert email_hook.requests() == []  # a code is not a link email

    # A code by email is not covered by the SMS URL (nor the link URL): test mode sends
    # nothing and writes no delivery.
    email = unique_email("code")
    by_email = client.post(
        f"/v0/tenants/{tenant_id}/auth/code", json={"channel": "email", "email": email}
    )
    assert by_email.status_code == 200, by_email.text
    time.sleep(2)
    assert email_hook.requests() == [] and len(hook.requests()) == 1
    assert outbox(client, email) == []


def test_a_receiver_that_is_down_gets_exactly_three_attempts(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    down = receiver(then=503)
    tenant_id = new_tenant(base_url, key, {"linkEmailWebhookUrl": down.url}, name="Down")
    email = unique_email("down")
    sent = client.post(f"/v0/tenants/{tenant_id}/auth/link", json={"email": email})
    assert sent.status_code == 200, sent.text
    link = sent.json()["result"]["link"]

    first = wait_for(down.requests, "the first attempt")[0]

    def failed() -> dict[str, Any] | None:
        found = _delivery(client, key, tenant_id, first.webhook_id)
        return found if found["status"] == "failed" else None

    over = wait_for(failed, "the delivery to fail")
    time.sleep(3)  # longer than a retry delay: nothing more comes
    requests = down.requests()
    assert len(requests) == 3 and len(over["attempts"]) == 3
    assert {r.webhook_id for r in requests} == {first.webhook_id}
    assert all(r.json()["record"]["link"] == link for r in requests)
    assert link not in str(over)  # the sealed body is dropped with the last attempt
    assert outbox(client, email) == []  # and no fallback to SES

    # The link is gone from the record: it cannot be redelivered, only sent anew.
    again = client.post(
        f"/v0/tenants/{tenant_id}/webhooks/deliveries/{first.webhook_id}/redeliver",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert again.status_code == 400, again.text


def test_session_events_arrive_only_at_the_session_urls(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    sessions = receiver()
    users = receiver()
    settings = {
        "sessionCreatedWebhookUrl": sessions.url,
        "sessionEndedWebhookUrl": sessions.url,
        "userCreatedWebhookUrl": users.url,
        "userUpdatedWebhookUrl": users.url,
    }
    tenant_id = new_tenant(base_url, key, settings, name="Sess")
    secret = signing_secret(client, workspace)

    signed_up = sign_up(client, tenant_id)
    session_id = signed_up["sessionId"]
    access, _id_token, _refresh = tokens(signed_up)
    assert client.post("/v0/auth/logout", headers=bearer(access)).status_code == 200

    def both() -> list[Received] | None:
        got = [r for r in sessions.requests() if r.json()["record"]["sessionId"] == session_id]
        return got if len(got) >= 2 else None

    created, ended = sorted(wait_for(both, "session create and end"), key=_action_order)
    assert all(verified(r, secret) for r in (created, ended))
    assert (created.json()["model"], created.json()["action"]) == ("session", "create")
    assert (ended.json()["model"], ended.json()["action"]) == ("session", "end")
    record = ended.json()["record"]
    assert record["userId"] == claims(access)["userId"] and record["endedAt"]
    assert record["isActive"] is False and created.json()["record"]["isActive"] is True
    for r in (created, ended):
        text = r.body.decode()
        assert "jti" not in text.lower() and access not in text
    # The user URL got the user event, never a session event.
    wait_for(users.requests, "the user.create event")
    assert all(r.json()["model"] == "user" for r in users.requests())


def test_no_session_events_without_the_session_urls(
    client: httpx.Client, workspace: Any, receiver: Callable[..., Receiver], base_url: str
) -> None:
    key = workspace.keys["test"]["admin"]
    users = receiver()
    tenant_id = new_tenant(base_url, key, {"userCreatedWebhookUrl": users.url}, name="NoSess")
    signed_up = sign_up(client, tenant_id)
    access, _id_token, _refresh = tokens(signed_up)
    assert client.post("/v0/auth/logout", headers=bearer(access)).status_code == 200
    wait_for(users.requests, "the user.create event")
    time.sleep(2)
    assert [r.json()["model"] for r in users.requests()] == ["user"]
    assert deliveries(client, key, tenant_id, event="session.create")["totalCount"] == 0
    assert deliveries(client, key, tenant_id, event="session.end")["totalCount"] == 0


def _action_order(request: Received) -> int:
    return 0 if request.json()["action"] == "create" else 1
