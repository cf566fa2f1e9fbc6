"""`@userfront/core`'s `login({ method: "password-migrate" })` against a tenant whose
users migrate through a passthrough (docs/auth.md "Passthrough migration"): the real
client signs in, keeps the tokens and hands `upstreamResponse` to its handler."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import Browser
from test_userfront_core import signed_in

from infra.local.testing import loopback_address

PASSWORD = "old-system-password-7"
UPSTREAM_BODY = {"user": {"plan": "gold"}, "passbackCode": "pbc-e2e-1"}


@pytest.fixture
def old_system() -> Iterator[str]:
    """The old login service: accepts PASSWORD for anyone, refuses anything else."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ok = sent.get("password") == PASSWORD
            answer = json.dumps(UPSTREAM_BODY if ok else {"message": "Old system says no"})
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/login"
    server.shutdown()
    server.server_close()


def test_password_migrate_signs_in_and_hands_over_the_upstream_response(
    api: Any, workspace: Any, base_url: str, old_system: str, request: pytest.FixtureRequest
) -> None:
    key = workspace.key("test", "admin")
    tenant = api("POST", "/v0/tenants", key, json={"name": "Migrating"}).json()["tenantId"]
    settings = {"enabled": True, "url": old_system, "passbackCode": "pbc-e2e-1"}
    saved = api("PUT", f"/v0/tenants/{tenant}/auth/passthrough", key, json=settings)
    assert saved.status_code == 200, saved.text
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
    created = api("POST", f"/v0/tenants/{tenant}/users", key, json={"email": email})
    assert created.status_code == 200, created.text
    browser = Browser(base_url.rstrip("/"), tenant, loopback_address(request.node.nodeid))

    refused = browser.run("login_password_migrate", email=email, password="not-it-1")
    assert refused.error == "Old system says no"

    run = browser.run("login_password_migrate", email=email, password=PASSWORD)
    signed_in(run, browser)
    assert run.result["upstream"] == [UPSTREAM_BODY]
    assert run.user["email"] == email
