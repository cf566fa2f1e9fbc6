"""moto for the benchmarks: a server on a free port and the environment pointed at it.

The environment must be complete before anything from `portcullis` is imported: the
table name and endpoint are read when the store's models are defined.

`own_process=True` runs moto in a child process, as DynamoDB is another machine in
AWS: a request then waits on a socket (the GIL is free, so work the function overlaps
with a call really runs meanwhile), and moto's own CPU time is not the function's.
`page_event` is the request a benchmark sends a function, as the local runtime builds it.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[1]

# The child: the local runtime's linear-time TransactWriteItems, then moto's server.
_SERVER = """
import logging, sys, time
sys.path.insert(0, sys.argv[1])
from infra.local import moto_dynamodb
from moto.server import ThreadedMotoServer
moto_dynamodb.install()
logging.getLogger("werkzeug").setLevel(logging.ERROR)
ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[2]), verbose=False).start()
while True:
    time.sleep(3600)
"""


class ChildMotoServer:
    """moto in a child process, with ThreadedMotoServer's `stop`/`get_host_and_port`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(ROOT), str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        atexit.register(self.stop)  # also when the benchmark dies half-way

    def start(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the moto server process exited")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the moto server did not start within 30 s")

    def get_host_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# What a Lambda function of the stack sees beyond the AWS endpoint: the benchmarks that
# run its code (auth, cold_start) start moto with these.
FUNCTION_ENV = {
    "SENDER_EMAIL": "no-reply@example.com",
    "STAGE": "bench",
    "ALLOWED_ORIGINS": "*",
    "PUBLIC_BASE_URL": "http://127.0.0.1:3000",
    "POWERTOOLS_SERVICE_NAME": "portcullis",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
}

PAGE_ORIGIN = "http://localhost:3000"  # a test-mode origin (api-client §0.6)


def page_event(
    method: str,
    path: str,
    body: dict[str, Any] | None,
    token: str | None,
    source_ip: str,
    match: Any,
) -> dict[str, Any]:
    """The API Gateway proxy event of a browser page's request at PAGE_ORIGIN (a JSON
    body, a bearer token), built by the local runtime for the route `match`."""
    from infra.local.apigateway import HttpRequest, build_proxy_event

    headers = [("Host", "127.0.0.1:3000"), ("Origin", PAGE_ORIGIN)]
    if body is not None:
        headers.append(("Content-Type", "application/json"))
    if token:
        headers.append(("Authorization", f"Bearer {token}"))
    raw = json.dumps(body).encode() if body is not None else b""
    return build_proxy_event(HttpRequest(method, path, headers, raw, source_ip), match)


def start_aws(
    table: str, extra_env: dict[str, str] | None = None, *, own_process: bool = False
) -> Any:
    """Start moto, point this process at it, create the table and a KMS key."""
    server: Any
    if own_process:
        server = ChildMotoServer(free_port())
    else:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for name in [n for n in os.environ if n.startswith(("AWS_ENDPOINT_URL_", "AWS_PROFILE"))]:
        del os.environ[name]
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TABLE_NAME": table,
            "EVENT_BUS_NAME": "portcullis-bench",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
    )
    import boto3

    kms = boto3.client("kms", region_name=REGION)
    os.environ["KMS_KEY_ID"] = kms.create_key(Description="bench")["KeyMetadata"]["Arn"]
    from portcullis.store import schema

    schema.create_table(boto3.client("dynamodb", region_name=REGION), table)
    return server
