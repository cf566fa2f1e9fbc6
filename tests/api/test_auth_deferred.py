"""Reset link and verify email do the same work for known and unknown addresses (issue 8
item 7), so their timing cannot tell them apart: compared by the DynamoDB calls each
request made (`GET /_local/calls`), never by a clock. The per-user work runs afterwards
in the outbox task `auth.send`, and the account's email still arrives.
"""

from __future__ import annotations

import uuid

import pytest
from authkit import PASSWORD, new_tenant, unique_email


@pytest.fixture(scope="module")
def domain() -> str:
    return f"{uuid.uuid4().hex[:10]}.example.com"


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace, domain: str) -> str:
    return new_tenant(
        base_url,
        workspace.key("live", "admin"),
        {"liveDomains": [{"domain": domain}]},
        name="Deferred sends",
    )


@pytest.fixture
def live(domain: str) -> dict[str, str]:
    return {"Origin": f"https://app.{domain}"}


def _calls(client, response) -> list[str]:
    assert response.status_code == 200, response.text
    request_id = response.headers["x-amzn-RequestId"]
    traced = client.get("/_local/calls", params={"requestId": request_id})
    assert traced.status_code == 200, traced.text
    # Less the tenant + settings read, which an instance repeats every few seconds
    # whatever the request (portcullis.tenancy.state); it may fall on either request.
    return [c for c in traced.json()["calls"] if c != "dynamodb:TransactGetItems"]


def _emails(client, to: str) -> list[dict]:
    # The first read runs the queued task, the second sends the email it wrote.
    client.get("/_local/outbox", params={"to": to})
    return client.get("/_local/outbox", params={"to": to}).json()


@pytest.mark.parametrize(
    ("path", "template_marker"),
    [("auth/reset/link", "/reset"), ("auth/verify/email", "type=verify")],
    ids=["reset", "verify"],
)
def test_known_and_unknown_addresses_cost_the_same(
    client, tenant, live, domain, path, template_marker
) -> None:
    known = unique_email("known")
    signed_up = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": known, "password": PASSWORD, "options": {"noSignupEmail": True}},
        headers=live,
    )
    assert signed_up.status_code == 200 and signed_up.json()["mode"] == "live"
    unknown = unique_email("unknown")
    url = f"/v0/tenants/{tenant}/{path}"
    known_response = client.post(url, json={"email": known}, headers=live)
    unknown_response = client.post(url, json={"email": unknown}, headers=live)
    known_calls = _calls(client, known_response)
    assert known_calls == _calls(client, unknown_response)
    assert known_calls.count("dynamodb:TransactWriteItems") == 1  # the task, no link write
    assert "dynamodb:Query" not in known_calls  # no user lookup on the request path
    # Same answer shape (the receipt), and the account still gets its email.
    assert set(known_response.json()["result"]) == set(unknown_response.json()["result"])
    sent = _emails(client, known)
    assert len(sent) == 1, sent
    assert f"https://app.{domain}/" in sent[0]["text"] and template_marker in sent[0]["text"]
    assert _emails(client, unknown) == []
