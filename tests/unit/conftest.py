"""Unit tests of the core that touch AWS run against an in-process moto server.

The environment is set at import time, before any `portcullis.store` module is
imported, because pynamodb models read the table name when their class is created.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["TABLE_NAME"] = f"portcullis-unit-{_WORKER}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def aws() -> Iterator[str]:
    """A moto server with the table and a KMS key; yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    import boto3

    from portcullis.store.base import configure
    from portcullis.store.schema import create_table

    configure(os.environ["TABLE_NAME"], endpoint)
    create_table(boto3.client("dynamodb", endpoint_url=endpoint), os.environ["TABLE_NAME"])
    key = boto3.client("kms", endpoint_url=endpoint).create_key()["KeyMetadata"]["KeyId"]
    os.environ["KMS_KEY_ID"] = key
    yield endpoint
    server.stop()
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous
