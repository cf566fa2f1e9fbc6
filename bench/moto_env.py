"""moto for the benchmarks: a server on a free port and the environment pointed at it.

The environment must be complete before anything from `portcullis` is imported: the
table name and endpoint are read when the store's models are defined.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_aws(table: str, extra_env: dict[str, str] | None = None) -> Any:
    """Start moto, point this process at it, create the table and a KMS key."""
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
