"""A WSGI layer in front of moto: what AWS guarantees that moto alone does not, and taps.

- DynamoDB requests are serialised. moto's DynamoDB is not thread-safe: concurrent
  `TransactWriteItems` can both pass an `attribute_not_exists` guard (two sign-ups with
  one email would both succeed) or fail with "dictionary changed size during iteration".
  Real DynamoDB executes each request atomically; one lock around moto gives the same
  guarantee while the functions themselves still run concurrently.
- SES sends, SNS publishes and EventBridge PutEvents are observed on their way through,
  so the runtime can list and print them (see `messages` and `eventbus` for why).
- SES accepts any sender: locally there is no identity to verify, and tenants may send
  from their own address.
- DynamoDB requests are counted (`dynamodb_calls`), for tests of call budgets.
- Lambda `Invoke` for a function of the template runs it in-process (moto would need
  Docker); other names fall through to moto.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

from infra.local.eventbus import BusEvent, parse_put_events
from infra.local.messages import SentMessage, from_ses_v1, from_ses_v2, from_sns_publish, parse_json

log = logging.getLogger(__name__)

WsgiStartResponse = Callable[..., Callable[[bytes], object]]
WsgiApp = Callable[[dict[str, Any], WsgiStartResponse], Iterable[bytes]]

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
_ITEM_WRITES = {"PutItem", "BatchWriteItem", "TransactWriteItems"}
_MESSAGE_ID_XML = re.compile(r"<MessageId>([^<]+)</MessageId>")


@dataclass
class InvokeOutcome:
    """The HTTP answer to a Lambda Invoke call that ran locally."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class WireTapListener(Protocol):
    """Receives what the tap observes; implemented by the runtime."""

    def on_message(self, message: SentMessage) -> None: ...

    def on_events(self, events: list[BusEvent]) -> None: ...

    def invoke_function(
        self, name: str, payload: bytes, invocation_type: str
    ) -> InvokeOutcome | None: ...

    def verify_sender(self, address: str, region: str) -> None: ...


@dataclass(frozen=True)
class _Call:
    service: str
    region: str
    method: str
    path: str
    target: str
    body: bytes

    def form(self) -> dict[str, list[str]]:
        if self.method != "POST" or not self.body or self.target:
            return {}
        try:
            return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return {}


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def _run(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run a WSGI app to completion, so the response can be inspected before it is sent."""
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        captured["status"], captured["headers"] = status, headers
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], b"".join(chunks)


class WireTap:
    """The middleware; see the module docstring for what it adds to moto."""

    def __init__(
        self, app: WsgiApp, listener: WireTapListener, quiet: Callable[[], bool] | None = None
    ) -> None:
        self._app = app
        self._listener = listener
        self._dynamodb_lock = threading.Lock()
        # DynamoDB requests served so far (`GET /_local/dynamodb`), except those made
        # while `quiet()` (the runtime's own outbox drains): lets tests assert that a
        # request is answered without touching the table.
        self.dynamodb_calls = 0
        # Item-creating writes (Put, BatchWrite, TransactWrite) so far: an outbox item is
        # only ever created by one of them, so no new one means nothing new to drain.
        self.item_writes = 0
        self._quiet = quiet or (lambda: False)

    def __call__(
        self, environ: dict[str, Any], start_response: WsgiStartResponse
    ) -> Iterable[bytes]:
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        call = _Call(
            service=scope.group(2) if scope else "",
            region=scope.group(1) if scope else "",
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", ""),
            target=environ.get("HTTP_X_AMZ_TARGET", ""),
            body=body,
        )
        if call.service == "lambda":
            outcome = self._maybe_invoke(call, environ)
            if outcome is not None:
                start_response(
                    f"{outcome.status} {_REASONS.get(outcome.status, '')}", outcome.headers
                )
                return [outcome.body]
        if call.service == "ses":
            self._verify_sender(call)
        if call.target.startswith("DynamoDB_"):
            with self._dynamodb_lock:
                if not self._quiet():
                    self.dynamodb_calls += 1
                    if call.target.rpartition(".")[2] in _ITEM_WRITES:
                        self.item_writes += 1
                status, headers, payload = _run(self._app, environ)
        else:
            status, headers, payload = _run(self._app, environ)
        if status.startswith("2"):
            try:
                self._observe(call, payload)
            except Exception:
                log.exception("could not record %s %s", call.service, call.target or call.path)
        start_response(status, headers)
        return [payload]

    def _maybe_invoke(self, call: _Call, environ: dict[str, Any]) -> InvokeOutcome | None:
        match = _INVOKE_PATH.match(call.path)
        if call.method != "POST" or match is None:
            return None
        name = unquote(match.group(1))
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        return self._listener.invoke_function(name, call.body, invocation_type)

    def _verify_sender(self, call: _Call) -> None:
        source: str | None = None
        if call.path.startswith("/v2/email/outbound-emails"):
            try:
                source = parse_json(call.body).get("FromEmailAddress")
            except ValueError:
                return
        else:
            form = call.form()
            if form.get("Action", [""])[0].startswith("Send"):
                source = (form.get("Source") or [None])[0]
        if source:
            self._listener.verify_sender(parseaddr(source)[1] or source, call.region)

    def _observe(self, call: _Call, payload: bytes) -> None:
        if call.target == "AWSEvents.PutEvents":
            events = parse_put_events(parse_json(call.body), parse_json(payload))
            if events:
                self._listener.on_events(events)
            return
        message: SentMessage | None = None
        if call.service == "ses" and call.path.startswith("/v2/email/outbound-emails"):
            message = from_ses_v2(parse_json(call.body), parse_json(payload).get("MessageId"))
        elif call.service in ("ses", "sns"):
            form = call.form()
            action = (form.get("Action") or [""])[0]
            found = _MESSAGE_ID_XML.search(payload.decode("utf-8", "replace"))
            message_id = found.group(1) if found else None
            if call.service == "ses" and action in (
                "SendEmail",
                "SendRawEmail",
                "SendTemplatedEmail",
            ):
                message = from_ses_v1(form, message_id)
            elif call.service == "sns" and action == "Publish":
                message = from_sns_publish(form, message_id)
        if message is not None:
            self._listener.on_message(message)


_REASONS = {200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request"}


def invoke_response(result: Any, error: BaseException | None, request_id: str) -> InvokeOutcome:
    """Lambda's Invoke answer: 200 either way, with `X-Amz-Function-Error` on a failure."""
    headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
    headers.append(("x-amzn-RequestId", request_id))
    if error is not None:
        headers.append(("X-Amz-Function-Error", "Unhandled"))
        body = {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": []}
        return InvokeOutcome(200, headers, json.dumps(body).encode())
    return InvokeOutcome(200, headers, json.dumps(result).encode())
