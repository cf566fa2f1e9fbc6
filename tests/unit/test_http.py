"""`portcullis.platform.http`: an unexpected error answers 500 and is logged with the request id,
so an operator can find the failing request from the id the client saw."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

from portcullis.platform import http


def test_unexpected_error_is_a_500_logged_with_the_request_id() -> None:
    app = http.create_app()

    @app.get("/v0/boom")
    def boom() -> dict[str, Any]:
        raise RuntimeError("boom")

    context = SimpleNamespace(
        function_name="f",
        memory_limit_in_mb=1024,
        invoked_function_arn="arn:aws:lambda:us-east-1:1:function:f",
        aws_request_id="aws-1",
    )
    event = {
        "httpMethod": "GET",
        "path": "/v0/boom",
        "resource": "/v0/boom",
        "headers": {},
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-42", "identity": {}, "stage": "t"},
    }
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in http.logger.handlers]
    try:
        result = http.handler(app)(event, context)
    finally:
        for handler, old in zip(http.logger.handlers, previous, strict=True):
            handler.setStream(old)
    assert result["statusCode"] == 500
    assert json.loads(result["body"])["statusCode"] == 500
    logged = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert any(
        entry.get("message") == "Unhandled error" and entry.get("requestId") == "req-42"
        for entry in logged
    ), logged
