"""The delivery connects only to the address the URL check approved (docs/webhooks.md):
whatever a host name resolves to at connection time, the TCP connection goes to the
pinned address, with the URL's own Host header (and TLS server name)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from portcullis.webhooks.delivery import PinnedTransport


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
