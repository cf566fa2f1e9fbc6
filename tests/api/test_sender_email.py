"""Who may set a tenant's `senderEmail`, and to what (issue 8 item 12).

Every workspace sends through the deployment's one SES account: without a rule, any
tenant admin (a child's too) could send as any identity verified there. Only an admin
of the workspace may change `senderEmail`, only to an address on a domain allowed for
that workspace (the `SenderDomains` parameter or `allow-sender-domain`), and the domain
is checked again whenever an email is sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import boto3
import httpx
import pytest
from authkit import bearer, error, log_in, new_tenant, outbox, sign_up, tokens, unique_email

NOT_WORKSPACE_ADMIN = '"senderEmail" can only be changed by an admin of the workspace'
DOMAIN_NOT_ALLOWED = '"senderEmail" must be an address on a sender domain allowed for the workspace'


def local_environment(base_url: str) -> dict[str, str]:
    return httpx.get(f"{base_url}/_local/environment", timeout=30).json()


def operator(base_url: str, *args: str) -> dict[str, Any]:
    """`python -m portcullis.admin ... --json` against this runtime's moto."""
    done = subprocess.run(
        [sys.executable, "-m", "portcullis.admin", *args, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **local_environment(base_url)},
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def verify_in_ses(base_url: str, address: str) -> None:
    """Verify the identity in the runtime's SES, as an operator does before using it."""
    env = local_environment(base_url)
    boto3.client(
        "ses",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    ).verify_email_identity(EmailAddress=address)


@pytest.fixture(scope="module")
def domain(base_url, workspace) -> str:
    """A sender domain the operator allowed for the workspace (and only for it)."""
    name = f"mail-{uuid.uuid4().hex[:10]}.example"
    allowed = operator(
        base_url, "allow-sender-domain", "--tenant-id", workspace.tenant_id, "--domain", name
    )
    assert name in allowed["domains"]
    return name


@pytest.fixture(scope="module")
def child(base_url, workspace) -> dict[str, str]:
    """A child tenant of the workspace and an admin key of the child alone."""
    admin_key = workspace.key("test", "admin")
    tenant_id = new_tenant(base_url, admin_key, name="Sender child")
    made = httpx.post(
        f"{base_url}/v0/keys",
        json={"type": "admin", "tenantId": tenant_id},
        headers=bearer(admin_key),
        timeout=30,
    )
    assert made.status_code == 200, made.text
    return {"tenantId": tenant_id, "key": made.json()["key"]}


def put_settings(api, tenant_id: str, key: str, body: dict[str, Any]) -> httpx.Response:
    return api("PUT", f"/v0/tenants/{tenant_id}/settings", key=key, json=body)


def test_a_child_admin_cannot_set_its_sender(api, child, domain) -> None:
    for address in ("ceo@victim.example", f"hello@{domain}"):
        response = put_settings(api, child["tenantId"], child["key"], {"senderEmail": address})
        error(response, 403, NOT_WORKSPACE_ADMIN)
    shown = api("GET", f"/v0/tenants/{child['tenantId']}/settings", key=child["key"])
    assert shown.json()["senderEmail"] is None


def test_a_child_admin_token_cannot_set_its_sender(api, client, child, domain) -> None:
    email = unique_email("child-admin")
    user_id = sign_up(client, child["tenantId"], email)["userId"]
    roles = api("PUT", f"/v0/users/{user_id}/roles", key=child["key"], json={"roles": ["admin"]})
    assert roles.status_code == 200, roles.text
    signed_in = log_in(client, child["tenantId"], email)
    assert signed_in.status_code == 200, signed_in.text
    access = tokens(signed_in.json())[0]
    response = put_settings(api, child["tenantId"], access, {"senderEmail": f"ceo@{domain}"})
    error(response, 403, NOT_WORKSPACE_ADMIN)


def test_a_workspace_admin_only_sets_addresses_on_allowed_domains(
    api, workspace, child, domain
) -> None:
    admin_key = workspace.key("test", "admin")
    for address in ("ceo@victim.example", f"hello@sub.{domain}", f"hello@{domain}.evil.example"):
        response = put_settings(api, child["tenantId"], admin_key, {"senderEmail": address})
        error(response, 400, DOMAIN_NOT_ALLOWED)
    ok = put_settings(api, child["tenantId"], admin_key, {"senderEmail": f"Hello@{domain}"})
    assert ok.status_code == 200, ok.text
    # The child's admin may send its settings back unchanged, but not change the sender.
    current = api("GET", f"/v0/tenants/{child['tenantId']}/settings", key=child["key"]).json()
    same = put_settings(api, child["tenantId"], child["key"], current)
    assert same.status_code == 200, same.text
    error(put_settings(api, child["tenantId"], child["key"], {"senderEmail": None}), 403)
    cleared = put_settings(api, child["tenantId"], admin_key, {"senderEmail": None})
    assert cleared.status_code == 200 and cleared.json()["senderEmail"] is None


def test_another_workspace_cannot_use_the_domain(api, base_url, workspace, domain) -> None:
    other = operator(base_url, "create-workspace", "--name", "Other sender")
    response = put_settings(
        api, other["tenantId"], other["keys"]["test"]["admin"], {"senderEmail": f"x@{domain}"}
    )
    error(response, 400, DOMAIN_NOT_ALLOWED)


def test_the_domain_is_checked_again_when_mail_is_sent(api, base_url, workspace) -> None:
    """Live mode (test mode hands links back instead of emailing them): an invitation
    goes out from the tenant's sender while its domain is allowed, and from the
    deployment's default sender once the operator removed the domain."""
    name = f"gone-{uuid.uuid4().hex[:10]}.example"
    tenant_id, live_key = workspace.tenant_id, workspace.key("live", "admin")
    operator(base_url, "allow-sender-domain", "--tenant-id", tenant_id, "--domain", name)
    sender = f"team@{name}"
    verify_in_ses(base_url, sender)
    created = api("POST", "/v0/tenants", key=live_key, json={"name": "Live sender child"})
    assert created.status_code == 200, created.text
    child_id = created.json()["tenantId"]
    set_sender = put_settings(api, child_id, live_key, {"senderEmail": sender})
    assert set_sender.status_code == 200, set_sender.text

    def invitation_from() -> str:
        address = unique_email("sender")
        invited = api(
            "POST", f"/v0/tenants/{child_id}/users/invite", key=live_key, json={"email": address}
        )
        assert invited.status_code == 200, invited.text
        deadline = time.monotonic() + 10
        while not (messages := outbox(api.client, address)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(messages) == 1, messages
        return messages[0]["from"]

    assert invitation_from() == sender
    removed = operator(base_url, "remove-sender-domain", "--tenant-id", tenant_id, "--domain", name)
    assert name not in removed["domains"]
    fallback = invitation_from()
    assert fallback != sender and not fallback.endswith(f"@{name}")
