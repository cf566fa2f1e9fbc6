"""The delivery connects only to the address the URL check approved (docs/webhooks.md):
whatever a host name resolves to at connection time, the TCP connection goes to the
pinned address, with the URL's own Host header (and TLS server name)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from portcullis.webhooks.transport import PinnedTransport


@pytest.fixture
def loopback() -> Iterator[tuple[int, list[str]]]:
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hosts.append(self.headers.get("Host", ""))
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hosts
    server.shutdown()
    server.server_close()


def test_the_connection_goes_to_the_pinned_address_only(loopback: tuple[int, list[str]]) -> None:
    port, hosts = loopback
    # `.invalid` never resolves (RFC 2606): reaching the server proves no DNS lookup ran.
    url = f"http://hooks.example.invalid:{port}/in"
    with httpx.Client(transport=PinnedTransport("127.0.0.1"), follow_redirects=False) as client:
        answer = client.post(url, content=b"{}")
    assert answer.status_code == 204
    assert hosts == [f"hooks.example.invalid:{port}"]


def test_a_pinned_address_that_refuses_is_a_network_error(loopback: tuple[int, list[str]]) -> None:
    port, hosts = loopback
    with (
        httpx.Client(transport=PinnedTransport("127.0.0.2"), timeout=2.0) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.post(f"http://127.0.0.1:{port}/in", content=b"{}")
    assert hosts == []


@pytest.fixture
def answering(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Any]]]:
    """A loopback receiver answering `state["status"]` with a 5 KB body."""
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCALHOST", "true")
    state: dict[str, Any] = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(state["status"])
            body = b"a" * 5000
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Location", "http://127.0.0.1:9/")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/in", state
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "succeeded"),
        (204, "succeeded"),
        (301, "failed"),
        (307, "failed"),
        (400, "failed"),
        (401, "failed"),
        (404, "failed"),
        (410, "failed"),
        (408, "pending"),
        (429, "pending"),
        (500, "pending"),
        (503, "pending"),
    ],
)
def test_which_answers_are_retried(
    answering: tuple[str, dict[str, Any]], status: int, outcome: str
) -> None:
    from portcullis.webhooks.transport import RESPONSE_KEEP_BYTES, post

    url, state = answering
    state["status"] = status
    result = post(url, "test", b"{}", {"Content-Type": "application/json"})
    assert result.outcome == outcome
    assert result.record["statusCode"] == status
    if status != 204:
        assert len(result.record["response"]) == RESPONSE_KEEP_BYTES
    if 300 <= status < 400:
        assert result.record["error"] == "redirect not followed"


def test_a_network_error_is_retried_and_a_refused_address_is_final(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portcullis.webhooks.transport import post

    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCALHOST", "true")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    closed = post(f"http://127.0.0.1:{port}/", "test", b"{}", {})
    assert closed.outcome == "pending" and "ConnectError" in closed.record["error"]
    refused = post("http://169.254.169.254/latest/meta-data/", "test", b"{}", {})
    assert refused.outcome == "failed" and refused.record["error"].startswith("refused")
    live_loopback = post(f"https://127.0.0.1:{port}/", "live", b"{}", {})
    assert live_loopback.outcome == "failed"
