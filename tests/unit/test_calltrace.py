"""`GET /_local/calls`: the AWS calls a request made on its own thread, and only those."""

from __future__ import annotations

import threading

import boto3
from botocore.stub import Stubber

from infra.local import calltrace


def _client():
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    stubber = Stubber(client)
    for _ in range(3):
        stubber.add_response("list_tables", {"TableNames": []})
    stubber.activate()
    return client


def test_calls_are_attributed_to_the_recording_request() -> None:
    calltrace.install()
    calltrace.install()  # idempotent: one wrapper
    client = _client()
    client.list_tables()  # outside any request: not recorded
    with calltrace.recording("req-1"):
        client.list_tables()
        other = threading.Thread(target=client.list_tables)  # another thread: not this request's
        other.start()
        other.join()
    assert calltrace.calls_of("req-1") == ["dynamodb:ListTables"]
    assert calltrace.calls_of("unknown") is None
