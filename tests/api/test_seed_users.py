"""Test-mode seed users (issue 8 item 11): their password is random per workspace.

A password known in advance would let anyone log in as `admin@example.com` in any
workspace's test mode (which accepts every origin) and use that token on the server API.
The operator commands run as separate processes against the runtime's AWS, as an
operator would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from authkit import bearer, error, log_in, tokens

OLD_FIXED_PASSWORD = "testmodepassword"
SEED_EMAILS = ("admin@example.com", "member@example.com", "viewer@example.com")


def operator(base_url: str, *args: str) -> dict[str, Any]:
    """`python -m portcullis.admin ... --json` against this runtime's moto."""
    local = httpx.get(f"{base_url}/_local/environment", timeout=30).json()
    environment = {**os.environ, **local}
    done = subprocess.run(
        [sys.executable, "-m", "portcullis.admin", *args, "--json"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def created(base_url) -> dict[str, Any]:
    """A workspace made by `create-workspace`, as printed (keys, seedPassword)."""
    return operator(base_url, "create-workspace", "--name", "Seeded")


def test_the_old_fixed_password_no_longer_logs_in(client, workspace) -> None:
    for email in SEED_EMAILS:
        error(log_in(client, workspace.tenant_id, email, OLD_FIXED_PASSWORD), 400)


def test_the_bootstrap_workspace_password_is_saved_for_make_dev(client, workspace) -> None:
    assert workspace.seed_password and workspace.seed_password != OLD_FIXED_PASSWORD
    response = log_in(client, workspace.tenant_id, "admin@example.com", workspace.seed_password)
    assert response.status_code == 200, response.text


def test_the_printed_password_logs_in_and_only_in_its_own_workspace(
    client, workspace, created
) -> None:
    tenant_id, password = created["tenantId"], created["seedPassword"]
    assert password != workspace.seed_password
    error(log_in(client, tenant_id, "admin@example.com", OLD_FIXED_PASSWORD), 400)
    error(log_in(client, workspace.tenant_id, "admin@example.com", password), 400)
    response = log_in(client, tenant_id, "admin@example.com", password)
    assert response.status_code == 200, response.text
    access = tokens(response.json())[0]
    # The seed admin is an admin of its workspace's test mode, and of nothing else.
    own = client.get(f"/v0/tenants/{tenant_id}", headers=bearer(access))
    assert own.status_code == 200, own.text
    other = client.get(f"/v0/tenants/{workspace.tenant_id}", headers=bearer(access))
    assert other.status_code == 403, other.text


def test_replace_seed_password_ends_the_old_one_and_its_sessions(client, base_url, created) -> None:
    tenant_id = created["tenantId"]
    signed_in = log_in(client, tenant_id, "member@example.com", created["seedPassword"])
    assert signed_in.status_code == 200, signed_in.text
    access = tokens(signed_in.json())[0]
    assert client.get("/v0/self", headers=bearer(access)).status_code == 200

    replaced = operator(base_url, "replace-seed-password", "--tenant-id", tenant_id)
    assert replaced["usernames"] == ["admin", "member", "viewer", "unconfirmed"]
    new_password = replaced["seedPassword"]
    assert new_password != created["seedPassword"]
    error(log_in(client, tenant_id, "member@example.com", created["seedPassword"]), 400)
    assert log_in(client, tenant_id, "member@example.com", new_password).status_code == 200
    assert client.get("/v0/self", headers=bearer(access)).status_code == 401
    created["seedPassword"] = new_password  # for any later test of this module
