"""Webhook configuration over HTTP (issue 11, docs/webhooks.md): the URL settings and
their SSRF rules per mode, and the workspace's signing secret (create, rotate, overlap,
who may).

The local runtime opts in to loopback targets in test mode (`WEBHOOKS_ALLOW_LOCALHOST`);
live mode never allows them. Host names that need a DNS server are not used: accepted
live targets are public IP literals, and `.invalid` never resolves (RFC 6761).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest
from accesskit import api_key, child_tenant, new_user, other_workspace, set_roles, sign_in
from authkit import PASSWORD, error

from portcullis.webhooks import signing

FIELD = "userCreatedWebhookUrl"
PUBLIC = "https://93.184.215.14/hooks/users"

REFUSED_LIVE = [
    "http://93.184.215.14/hooks",  # live: https only
    "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://2130706433/hook",  # decimal 127.0.0.1, as a browser reads it
    "https://10.1.2.3/hook",
    "https://user@93.184.215.14/hook",  # userinfo
    "https://93.184.215.14@127.0.0.1/hook",  # userinfo trick
    "https://localhost:9000/hook",
    "https://hooks.portcullis.invalid/hook",  # does not resolve: fails closed
]


def settings_path(tenant_id: str) -> str:
    return f"/v0/tenants/{tenant_id}/settings"


@pytest.fixture(scope="module")
def live_child(base_url: str, workspace: Any) -> str:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        return child_tenant(http, workspace.key("live", "admin"), name="Hooks live")


@pytest.fixture(scope="module")
def test_child(base_url: str, workspace: Any) -> str:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        return child_tenant(http, workspace.key("test", "admin"), name="Hooks test")


@pytest.mark.parametrize("url", REFUSED_LIVE)
def test_live_mode_refuses_unsafe_targets(api, workspace, live_child, url: str) -> None:
    key = workspace.key("live", "admin")
    body = error(api("PUT", settings_path(live_child), key, json={FIELD: url}), 400)
    assert body["message"].startswith(f'"{FIELD}" '), body
    stored = api("GET", settings_path(live_child), key).json()
    assert stored[FIELD] is None


def test_live_mode_accepts_a_public_https_target_and_unsets_it(api, workspace, live_child) -> None:
    key = workspace.key("live", "admin")
    changed = api(
        "PUT", settings_path(live_child), key, json={FIELD: "HTTPS://93.184.215.14:443/hooks/users"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()[FIELD] == PUBLIC
    assert api("GET", settings_path(live_child), key).json()[FIELD] == PUBLIC
    # Test mode is another configuration of the same tenant id: untouched.
    assert api("GET", settings_path(live_child), workspace.key("test", "admin")).status_code in (
        403,
        404,
    )
    cleared = api("PUT", settings_path(live_child), key, json={FIELD: None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()[FIELD] is None


def test_every_webhook_setting_is_checked(api, workspace, live_child) -> None:
    key = workspace.key("live", "admin")
    names = [
        "userCreatedWebhookUrl",
        "userUpdatedWebhookUrl",
        "userDeletedWebhookUrl",
        "tenantCreatedWebhookUrl",
        "tenantUpdatedWebhookUrl",
        "tenantDeletedWebhookUrl",
        "linkEmailWebhookUrl",
        "verificationCodeEmailWebhookUrl",
        "verificationCodeSmsWebhookUrl",
        "sessionCreatedWebhookUrl",
        "sessionEndedWebhookUrl",
    ]
    for name in names:
        body = error(
            api("PUT", settings_path(live_child), key, json={name: "https://127.0.0.1/"}), 400
        )
        assert body["message"].startswith(f'"{name}" '), body
        body = error(api("PUT", settings_path(live_child), key, json={name: 42}), 400)
        assert body["message"].startswith(f'"{name}" '), body
    everything = {name: f"{PUBLIC}/{i}" for i, name in enumerate(names)}
    changed = api("PUT", settings_path(live_child), key, json=everything)
    assert changed.status_code == 200, changed.text
    assert {name: changed.json()[name] for name in names} == everything


def test_test_mode_allows_http_and_the_local_receiver(api, workspace, test_child) -> None:
    key = workspace.key("test", "admin")
    for url in (
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/hook",
        "http://93.184.215.14/",
    ):
        changed = api("PUT", settings_path(test_child), key, json={FIELD: url})
        assert changed.status_code == 200, changed.text
        assert changed.json()[FIELD] == url
    for url in (
        "http://169.254.169.254/latest/",
        "http://10.0.0.1/",
        "http://[fd00:ec2::254]/",
        "http://2130706433/",
        "http://u:p@127.0.0.1:9000/",
        "ftp://127.0.0.1/",
    ):
        body = error(api("PUT", settings_path(test_child), key, json={FIELD: url}), 400)
        assert body["message"].startswith(f'"{FIELD}" '), (url, body)


# ------------------------------------------------------------------ signing secret


def secret_path(tenant_id: str) -> str:
    return f"/v0/tenants/{tenant_id}/webhooks/secret"


@pytest.fixture(scope="module")
def own_workspace(base_url: str) -> tuple[str, dict[str, Any]]:
    """A workspace of its own: rotating the bootstrap workspace's secret would change
    what other tests' deliveries are signed with."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        return other_workspace(http)


def signed_now(client: httpx.Client, mode: str, workspace_id: str, body: bytes) -> dict[str, Any]:
    """The headers a delivery would carry now, computed by the core in a separate process
    against the runtime's AWS (the signing secrets are KMS-sealed in its table)."""
    environment = {**os.environ, **client.get("/_local/environment").json()}
    script = (
        "import json,sys; from portcullis.webhooks import secrets, signing;"
        " mode, ws, body = json.load(sys.stdin);"
        " print(json.dumps(signing.headers('evt-1', 1733555000, body.encode(),"
        " secrets.signing_secrets(mode, ws), None)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([mode, workspace_id, body.decode()]),
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_rotation_shows_the_secret_once_and_both_sign_during_the_overlap(
    api, client, own_workspace
) -> None:
    workspace_id, keys = own_workspace
    key = keys["test"]["admin"]
    first = api("POST", secret_path(workspace_id), key)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    assert list(first.json()) == ["secret"]
    old = first.json()["secret"]
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", old)
    body = b'{"action":"create","model":"user","mode":"test","record":{}}'

    headers = signed_now(client, "test", workspace_id, body)
    assert headers["X-Webhook-Signature"].count("v1=") == 1
    assert signing.verify(headers["X-Webhook-Signature"], "evt-1", 1733555000, body, old)

    second = api("POST", secret_path(workspace_id), key, json={})
    assert second.status_code == 200, second.text
    new = second.json()["secret"]
    assert new != old and re.fullmatch(r"whsec_[0-9a-f]{64}", new)
    headers = signed_now(client, "test", workspace_id, body)
    signature = headers["X-Webhook-Signature"]
    assert signature.count("v1=") == 2
    assert signature.split(",")[0] == f"v1={signing.signature('evt-1', 1733555000, body, new)}"
    assert signing.verify(signature, "evt-1", 1733555000, body, new)
    assert signing.verify(signature, "evt-1", 1733555000, body, old)
    # The secret is never readable again: nothing answers it but a rotation.
    assert api("GET", secret_path(workspace_id), key).status_code in (404, 405)


def test_live_and_test_secrets_are_separate(api, client, own_workspace) -> None:
    workspace_id, keys = own_workspace
    live = api("POST", secret_path(workspace_id), keys["live"]["admin"])
    assert live.status_code == 200, live.text
    body = b"{}"
    signature = signed_now(client, "live", workspace_id, body)["X-Webhook-Signature"]
    assert signing.verify(signature, "evt-1", 1733555000, body, live.json()["secret"])
    test_signature = signed_now(client, "test", workspace_id, body)["X-Webhook-Signature"]
    assert not signing.verify(test_signature, "evt-1", 1733555000, body, live.json()["secret"])


def test_only_the_workspace_admin_may_rotate(api, client, workspace, own_workspace) -> None:
    admin = workspace.key("test", "admin")
    ws = workspace.tenant_id
    child = child_tenant(client, admin, name="No secret")
    child_admin = api_key(client, admin, child)
    other_id, other_keys = own_workspace
    refusals = [
        (ws, workspace.key("test", "readonly"), 403),  # readonly key
        (ws, child_admin, 403),  # a child tenant's admin on the workspace
        (child, child_admin, 403),  # ... and on its own tenant: not a workspace
        (child, admin, 403),  # the workspace admin on a child: only workspaces have one
        (ws, other_keys["test"]["admin"], 403),  # another workspace's key
        (other_id, admin, 403),
        (ws, api_key(client, admin, ws, "webhook"), 401),  # webhook keys call nothing
        (ws, None, 401),
        (ws, "uf_test_admin_" + ws + "_" + "0" * 32, 401),
        ("not-a-tenant", admin, 404),
    ]
    for tenant_id, key, status in refusals:
        error(api("POST", secret_path(tenant_id), key), status)
    assert api("POST", secret_path(other_id), other_keys["test"]["admin"]).status_code == 200


def test_an_admin_token_of_the_workspace_may_rotate_a_child_admins_may_not(
    api, client, own_workspace
) -> None:
    workspace_id, keys = own_workspace
    key = keys["test"]["admin"]
    admin = new_user(client, key, password=PASSWORD, roles=["admin"])
    assert api("POST", secret_path(workspace_id), sign_in(client, admin)).status_code == 200
    child = child_tenant(client, key, name="Child of O")
    child_admin = new_user(client, key, password=PASSWORD)
    set_roles(client, key, child, child_admin, ["admin"])
    token = sign_in(client, child_admin)
    error(api("POST", secret_path(workspace_id), token), 403)
    error(api("POST", secret_path(child), token), 403)
