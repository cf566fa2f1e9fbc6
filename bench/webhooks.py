"""Webhook delivery throughput: events per second from the outbox to a loopback receiver.

The whole local path, as `make dev` runs it: N `user.create` outbox items are written in
one go (what N committed changes leave behind), then the outbox publisher puts them on
EventBridge (moto), the rule copies them to the SQS queue (moto), the
`WebhookDeliveryFunction` reads the queue (the local event-source pollers, batches of 10)
and POSTs each signed event to a receiver on 127.0.0.1 that answers 200 at once. The
clock runs from the write to the moment the receiver holds every event; the figure is
N / that time. It measures this machine's emulation (moto's SQS and one poller thread),
not AWS, where Lambda scales the queue's consumers out.

    python bench/webhooks.py [-n 200] [--update-docs]

`--update-docs` rewrites the "Webhook delivery" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import perfdocs

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core")]


class Receiver:
    """Counts distinct X-Webhook-Id values; answers 200."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.expected = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.ids.add(self.headers.get("X-Webhook-Id", ""))
                    if receiver.expected and len(receiver.ids) >= receiver.expected:
                        receiver.done.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bench"


def run(count: int) -> tuple[float, int]:
    from infra.local.runtime import DEFAULT_TEMPLATE, LocalRuntime

    os.environ.setdefault("PORTCULLIS_WEBHOOK_RETRY_DELAYS", "1,1,1,1,1,1,1")
    receiver = Receiver()
    with LocalRuntime(DEFAULT_TEMPLATE, tempfile.mkdtemp(), echo=False, access_log=False) as rt:
        from portcullis.messaging import outbox
        from portcullis.store import outbox as outbox_store

        assert rt.workspace is not None
        key = rt.workspace.keys["test"]["admin"]
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=rt.base_url, timeout=30) as http:
            made = http.post("/v0/tenants", json={"name": "Bench"}, headers=headers)
            tenant_id = made.json()["tenantId"]
            configured = http.put(
                f"/v0/tenants/{tenant_id}/settings",
                json={"userCreatedWebhookUrl": receiver.url},
                headers=headers,
            )
            assert configured.status_code == 200, configured.text
        items = [
            outbox.event_item(
                "create",
                "user",
                "test",
                {"userUuid": str(uuid.uuid4()), "tenantId": tenant_id, "email": f"b{n}@x.test"},
                tenant_id=tenant_id,
            )
            for n in range(count)
        ]
        receiver.expected = count
        started = time.perf_counter()
        for start in range(0, count, 100):
            outbox_store.put_items(items[start : start + 100])
        outbox.drain_pending(limit=count + 10)
        if not receiver.done.wait(600):
            raise SystemExit(f"only {len(receiver.ids)} of {count} events arrived in 10 minutes")
        elapsed = time.perf_counter() - started
    receiver.server.shutdown()
    return elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="events (default 200)")
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    elapsed, count = run(args.n)
    rate = count / elapsed
    print(f"webhook delivery: {count} events in {elapsed:.2f} s = {rate:.1f} events/s")
    if args.update_docs:
        when = datetime.now(UTC).strftime("%Y-%m-%d")
        perfdocs.replace_section(
            "Webhook delivery",
            f"""## Webhook delivery

`bench/webhooks.py` (`python bench/webhooks.py -n {count} --update-docs`) writes {count}
`user.create` events to the outbox at once and times their way through the local
emulation of the AWS path (outbox publisher -> EventBridge -> rule -> SQS -> the
`WebhookDeliveryFunction` -> a signed POST to a receiver on 127.0.0.1 that answers 200)
until the receiver holds every one (docs/webhooks.md "Delivery").

| events | seconds | events/s | measured |
|---|---|---|---|
| {count} | {elapsed:.2f} | **{rate:.1f}** | {when}, this repository's 2-core dev machine |

This is the local runtime's figure: everything (moto, the publisher, three SQS pollers
emulating the event source mapping, the function, the receiver) shares one Python process
and its GIL, and every DynamoDB call is an HTTP round trip to moto. In AWS, Lambda runs
up to 1,000 concurrent consumers of the queue (and the DNS check plus a new TLS connection per
attempt dominate each POST), so deployed throughput scales with the queue depth, not
with this number.
""",
        )


if __name__ == "__main__":
    main()
