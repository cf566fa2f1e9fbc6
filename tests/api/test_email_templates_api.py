"""Email templates over HTTP (issue 11): `GET/PUT/DELETE /v0/tenants/{id}/emails/{type}`
and `POST .../preview`, who may use them, a saved template changing the live-mode email
that `GET /_local/outbox` shows, and a simulated SES bounce that marks the user and
stops further emails to the address (docs/emails.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from accesskit import api_key, child_tenant
from authkit import PASSWORD, error, new_tenant, outbox, unique_email
from conformance import conforms

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def domain() -> str:
    return f"{uuid.uuid4().hex[:10]}.example.com"


@pytest.fixture(scope="module")
def live_tenant(base_url: str, workspace, domain: str) -> str:
    return new_tenant(
        base_url,
        workspace.key("live", "admin"),
        {"liveDomains": [{"domain": domain}]},
        name="Templates Live",
    )


@pytest.fixture
def live(domain: str) -> dict[str, str]:
    return {"Origin": f"https://app.{domain}"}


def path(tenant_id: str, template_type: str, suffix: str = "") -> str:
    return f"/v0/tenants/{tenant_id}/emails/{template_type}{suffix}"


def sign_up_live(client, tenant_id: str, headers: dict[str, str], name: str = "") -> str:
    email = unique_email("tpl")
    body = {"email": email, "password": PASSWORD, "name": name}
    created = client.post(f"/v0/tenants/{tenant_id}/auth/create", json=body, headers=headers)
    assert created.status_code == 200 and created.json()["mode"] == "live", created.text
    return email


def test_read_save_preview_and_delete(api, workspace) -> None:
    key = workspace.key("test", "admin")
    tenant_id = new_tenant(str(api.client.base_url), key, name="Tpl <Acme>")
    shown = api("GET", path(tenant_id, "login"), key=key)
    assert shown.status_code == 200, shown.text
    default = shown.json()
    assert default["source"] == "default" and default["customParts"] == []
    assert "{{ link }}" in default["text"] and "{{ workspace.name }}" in default["subject"]
    assert "verificationCode" in default["variables"]

    body = {"subject": "Sign in to {{ workspace.name }}", "html": "<b>{{ user.name }}</b>"}
    saved = api("PUT", path(tenant_id, "login"), key=key, json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["source"] == "tenant"
    assert saved.json()["customParts"] == ["subject", "html"]
    assert saved.json()["text"] == default["text"]  # not set: the shipped default
    assert api("GET", path(tenant_id, "login"), key=key).json()["subject"] == body["subject"]

    preview = api("POST", path(tenant_id, "login", "/preview"), key=key)
    assert preview.status_code == 200, preview.text
    assert preview.json()["subject"] == "Sign in to Tpl <Acme>"
    assert preview.json()["html"] == "<b>Jane Doe</b>"
    assert "https://app.example.com/login" in preview.json()["text"]

    posted = {"html": "<i>{{ tenant.name }}</i>", "text": "code {{ verificationCode }}"}
    preview = api("POST", path(tenant_id, "login", "/preview"), key=key, json=posted)
    assert preview.status_code == 200, preview.text
    assert preview.json()["html"] == "<i>Tpl &lt;Acme&gt;</i>"  # escaped in HTML
    assert preview.json()["text"] == "code 123456"
    assert preview.json()["subject"] == "Sign in to Tpl <Acme>"  # the saved part

    sms = api("PUT", path(tenant_id, "code.sms"), key=key, json={"text": "{{ verificationCode }}!"})
    assert sms.status_code == 200, sms.text
    assert api("POST", path(tenant_id, "code.sms", "/preview"), key=key).json()["text"] == "123456!"

    deleted = api("DELETE", path(tenant_id, "login"), key=key)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["source"] == "default"
    for answer in (shown, saved, preview, sms, deleted):
        conforms(answer)  # the answer is what docs/openapi.json declares
    assert api("DELETE", path(tenant_id, "login"), key=key).status_code == 200  # idempotent


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"html": "{{ ''.__class__.__mro__ }}"}, '"html" may not use the attribute "__mro__"'),
        ({"subject": "{{ cycler.__init__.__globals__ }}"}, '"subject" may not use the attribute'),
        ({"text": "{{ user|attr('__class__') }}"}, '"text" uses an unknown filter or test "attr"'),
        ({"text": "{% include '/etc/passwd' %}"}, '"text" may not include or import templates'),
        ({"text": "{{ secret }}"}, '"text" uses an unknown variable "secret"'),
        ({"html": "{{ oops"}, '"html" is not a valid template'),
        ({"subject": "x" * 501}, '"subject" must be at most 500 characters'),
        ({"sender": "x"}, '"sender" is not a part of the login template'),
        ({}, '"subject" is required'),
        ([], '"body" must be a JSON object'),
    ],
)
def test_bad_templates_are_refused_at_save_time_naming_the_field(
    api, workspace, body, message
) -> None:
    key = workspace.key("test", "admin")
    response = api("PUT", path(workspace.tenant_id, "login"), key=key, json=body)
    assert error(response, 400)["message"].startswith(message)
    preview = api("POST", path(workspace.tenant_id, "login", "/preview"), key=key, json=body)
    if isinstance(body, dict) and body:
        assert error(preview, 400)["message"].startswith(message)
    shown = api("GET", path(workspace.tenant_id, "login"), key=key).json()
    assert shown["source"] == "default"  # nothing was stored


def test_scope_and_unknown_types(api, client, workspace) -> None:
    key = workspace.key("test", "admin")
    child = child_tenant(client, key, name="Tpl child")
    sibling = child_tenant(client, key, name="Tpl sibling")
    sibling_key = api_key(client, key, sibling)
    readonly = workspace.key("test", "readonly")
    for method in ("GET", "PUT", "DELETE"):
        error(api(method, path(child, "login"), key=sibling_key, json={"subject": "x"}), 403)
        error(api(method, path(child, "login"), key=readonly, json={"subject": "x"}), 403)
        error(api(method, path(child, "login"), json={"subject": "x"}), 401)
    error(api("POST", path(child, "login", "/preview"), key=sibling_key), 403)
    error(api("GET", path(child, "nosuchtype"), key=key), 404, "Email type not found")
    error(api("GET", path(child, "nosuchtype"), key=sibling_key), 403)  # scope first
    error(api("GET", path("zzzzzzzz", "login"), key=key), 403)
    # The child's own admin may, and the workspace admin may for the child.
    child_key = api_key(client, key, child)
    assert api("GET", path(child, "login"), key=child_key).status_code == 200
    test_mode = api("PUT", path(child, "login"), key=key, json={"subject": "test {{ link }}"})
    assert test_mode.json()["mode"] == "test"


def test_a_saved_template_changes_the_live_email_and_the_workspace_one_applies_below(
    api, client, workspace, live_tenant, live
) -> None:
    live_key = workspace.key("live", "admin")
    body = {
        "subject": "Hello {{ user.name }} from {{ workspace.name }}",
        "html": "<p>{{ user.name }}</p><a href='{{ link }}'>go</a>",
        "text": "Custom: {{ link }}",
    }
    saved = api("PUT", path(live_tenant, "welcome"), key=live_key, json=body)
    assert saved.status_code == 200 and saved.json()["mode"] == "live", saved.text
    email = sign_up_live(client, live_tenant, live, name=SCRIPT)
    sent = outbox(client, email)
    assert len(sent) == 1, sent
    assert sent[0]["subject"] == f"Hello {SCRIPT} from Templates Live"
    assert sent[0]["html"].startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")
    assert sent[0]["text"].startswith("Custom: https://app.")
    # Templates are per mode: a test-mode key does not reach the live tenant's.
    error(api("GET", path(live_tenant, "welcome"), key=workspace.key("test", "admin")), 403)

    # Removed: the shipped default again.
    assert api("DELETE", path(live_tenant, "welcome"), key=live_key).status_code == 200
    email = sign_up_live(client, live_tenant, live)
    assert outbox(client, email)[0]["subject"] == "Welcome to Templates Live, confirm your email"


def test_a_bounce_marks_the_user_and_stops_further_emails(
    api, client, workspace, live_tenant, live
) -> None:
    live_key = workspace.key("live", "admin")
    email = sign_up_live(client, live_tenant, live)
    assert len(outbox(client, email)) == 1  # the welcome email went out
    users = api("GET", f"/v0/tenants/{live_tenant}/users", key=live_key).json()["results"]
    user = next(u for u in users if u["email"] == email)
    assert "emailStatus" not in user

    bounced = client.post("/_local/ses/bounce", json={"email": email.upper()})
    assert bounced.status_code == 200, bounced.text
    event = bounced.json()["event"]
    assert event["mail"]["tags"] == {"mode": ["live"], "tenantId": [live_tenant]}
    assert bounced.json()["results"] == [{"marked": 1}]

    shown = api("GET", f"/v0/tenants/{live_tenant}/users/{user['userId']}", key=live_key)
    assert shown.status_code == 200, shown.text
    assert shown.json()["emailStatus"]["status"] == "bounced"
    assert shown.json()["emailStatus"]["at"]

    # A login link is still answered as sent (no enumeration), but no email leaves.
    link = client.post(f"/v0/tenants/{live_tenant}/auth/link", json={"email": email}, headers=live)
    assert link.status_code == 200, link.text
    assert len(outbox(client, email)) == 1

    # The operator lifts it: the user's emailStatus goes, emails go out again.
    environment = {**os.environ, **client.get("/_local/environment").json()}
    command = ["email-status", "--email", email, "--clear", "--json"]
    lifted = subprocess.run(
        [sys.executable, "-m", "portcullis.admin", *command],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=120,
    )
    assert json.loads(lifted.stdout)["cleared"] is True
    shown = api("GET", f"/v0/tenants/{live_tenant}/users/{user['userId']}", key=live_key)
    assert "emailStatus" not in shown.json()
    code = client.post(
        f"/v0/tenants/{live_tenant}/auth/code",
        json={"channel": "email", "email": email},
        headers=live,
    )
    assert code.status_code == 200, code.text
    assert len(outbox(client, email)) == 2

    # A complaint about another address is recorded the same way.
    other = sign_up_live(client, live_tenant, live)
    complained = client.post("/_local/ses/complaint", json={"email": other})
    assert complained.status_code == 200 and complained.json()["results"] == [{"marked": 1}]
    assert client.post("/_local/ses/bounce", json={"email": "nope"}).status_code == 400
