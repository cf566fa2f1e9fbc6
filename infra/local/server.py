"""The HTTP front: API Gateway's behaviour for the template's routes, plus `/_local/*`.

`LocalGateway` holds the behaviour and works on plain request/response objects (easy to
test); `LocalHttpServer` only moves bytes. Requests are served on one thread each and
functions are invoked concurrently, as separate Lambda instances would be, so races in
the code (two sign-ups with one email) show up locally the way they would in AWS.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from infra.local import apidocs, calltrace
from infra.local.apigateway import (
    MAX_PAYLOAD_BYTES,
    HttpRequest,
    HttpResponse,
    InvalidProxyResult,
    build_proxy_event,
    gateway_error,
    json_response,
    preflight_response,
    proxy_result_to_response,
)
from infra.local.eventbus import EventLog
from infra.local.lambdas import LocalFunction, report_failure
from infra.local.messages import MessageLog
from infra.local.routing import RouteMatch, Router
from infra.local.template import CorsConfig

LOCAL_PREFIX = "/_local"

# Powertools' resolvers keep the current event on a class attribute
# (`BaseRouter.current_event`) shared by every function in the process. Lambda runs one
# event at a time per instance, so that is safe there; here every function lives in one
# process and requests arrive on many threads, so two concurrent API requests could swap
# events and bodies. API Gateway events therefore run one at a time, as in one Lambda
# instance. Other invocations (Lambda Invoke, SQS, async) are not resolver events and are
# not held back, so a handler that invokes another function synchronously cannot deadlock.
API_EVENTS_ONE_AT_A_TIME = threading.Lock()
_DISCARD_LIMIT = 64 * 1024 * 1024


def _no_calls() -> int:
    return 0


def _no_webhooks(query: Mapping[str, str]) -> list[dict[str, Any]]:
    return []


@dataclass
class LocalGateway:
    """Routes a request to its function (or a local endpoint) and shapes the answer."""

    router: Router
    functions: Mapping[str, LocalFunction]
    cors: CorsConfig | None
    messages: MessageLog
    events: EventLog
    drain: Callable[[], None]
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    dynamodb_calls: Callable[[], int] = _no_calls
    #: Run after each API request; `drain` when not given.
    after_request: Callable[[], None] | None = None
    ses_events: Callable[[str, Any], tuple[int, dict[str, Any]]] | None = None
    webhooks: Callable[[Mapping[str, str]], list[dict[str, Any]]] = _no_webhooks

    def __post_init__(self) -> None:
        self.stage_variables = dict(self.stage_variables)  # the caller's may change later
        calltrace.install()

    def handle(self, request: HttpRequest) -> HttpResponse:
        origin = request.header("Origin")
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return gateway_error(413, origin)
        if request.path == LOCAL_PREFIX or request.path.startswith(LOCAL_PREFIX + "/"):
            return self._local(request)
        match = self.router.match(request.method, request.path)
        if isinstance(match, RouteMatch):
            return self._invoke(request, match)
        if match.status == 405 and request.method.upper() == "OPTIONS" and self.cors is not None:
            return preflight_response(self.cors, match.allowed_methods, origin)
        return gateway_error(match.status, origin)

    def _invoke(self, request: HttpRequest, match: RouteMatch) -> HttpResponse:
        origin = request.header("Origin")
        function = self.functions[match.route.function_id]
        request_id = str(uuid.uuid4())
        event = build_proxy_event(
            request, match, request_id=request_id, stage_variables=self.stage_variables
        )
        try:
            with API_EVENTS_ONE_AT_A_TIME, calltrace.recording(request_id):
                result = function.invoke(event)
        except Exception as error:
            report_failure(
                f"{function.spec.logical_id} raised on {request.method} {request.path}", error
            )
            return gateway_error(500, origin)
        finally:
            # Before the response: whoever reads /_local/outbox next sees what this sent.
            (self.after_request or self.drain)()
        try:
            response = proxy_result_to_response(result)
        except InvalidProxyResult as error:
            print(
                f"[portcullis-local] {function.spec.logical_id} returned an invalid proxy result "
                f"({error}): {result!r:.500}",
                file=sys.stderr,
            )
            return gateway_error(502, origin)
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def _local(self, request: HttpRequest) -> HttpResponse:
        """Developer endpoints: what was sent and what was put on the bus."""
        origin = request.header("Origin")
        method = request.method.upper()
        resource = request.path.rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(request.query).items()}
        docs = apidocs.serve(method, resource)  # Swagger UI over /v0/openapi.json
        if docs is not None:
            return docs
        if resource == f"{LOCAL_PREFIX}/health" and method == "GET":
            return json_response(200, {"status": "ok"}, origin)
        if resource == f"{LOCAL_PREFIX}/environment" and method == "GET":
            # What an operator command (python -m portcullis.admin ...) needs to act on
            # this runtime's moto: endpoint, table, KMS key, bus and region.
            names = ("AWS_ENDPOINT_URL", "TABLE_NAME", "KMS_KEY_ID", "EVENT_BUS_NAME")
            names += ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            return json_response(200, {n: os.environ.get(n, "") for n in names}, origin)
        if resource == f"{LOCAL_PREFIX}/dynamodb" and method == "GET":
            # How many DynamoDB requests the runtime has served (tests of call budgets).
            return json_response(200, {"calls": self.dynamodb_calls()}, origin)
        if resource == f"{LOCAL_PREFIX}/calls" and method == "GET":
            # The AWS calls one request made (by its x-amzn-RequestId): see calltrace.
            calls = calltrace.calls_of(query.get("requestId", ""))
            if calls is None:
                return json_response(404, {"message": "Unknown requestId"}, origin)
            return json_response(200, {"requestId": query["requestId"], "calls": calls}, origin)
        if resource == f"{LOCAL_PREFIX}/outbox":
            if method == "GET":
                self.drain()
                messages = self.messages.list(to=query.get("to"), channel=query.get("channel"))
                return json_response(200, [m.to_json() for m in messages], origin)
            if method == "DELETE":
                self.messages.clear()
                return HttpResponse(status=204)
            return gateway_error(405, origin)
        if resource.startswith(f"{LOCAL_PREFIX}/ses/") and self.ses_events is not None:
            # A simulated SES bounce or complaint (infra/local/sesevents.py).
            if method != "POST":
                return gateway_error(405, origin)
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return json_response(400, {"message": "body must be JSON"}, origin)
            status, answer = self.ses_events(resource.rsplit("/", 1)[1], body)
            return json_response(status, answer, origin)
        if resource == f"{LOCAL_PREFIX}/events":
            if method == "GET":
                self.drain()
                events = self.events.list()
                if "detailType" in query:
                    events = [e for e in events if e.detail_type == query["detailType"]]
                return json_response(200, [e.to_json() for e in events], origin)
            if method == "DELETE":
                self.events.clear()
                return HttpResponse(status=204)
            return gateway_error(405, origin)
        if resource == f"{LOCAL_PREFIX}/webhooks":
            if method == "GET":
                # Webhook deliveries and their attempts, newest first (from the delivery
                # store; filters: tenantId, status, event, webhookId).
                return json_response(200, self.webhooks(query), origin)
            return gateway_error(405, origin)
        return gateway_error(404, origin)


class LocalHttpServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands every request to a `LocalGateway`."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], access_log: bool = True) -> None:
        super().__init__(address, _RequestHandler)
        self.gateway: LocalGateway | None = None
        self.access_log = access_log

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PortcullisLocal/1"
    # Idle keep-alive connections are closed eventually instead of holding a thread forever.
    timeout = 300
    server: LocalHttpServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: `_serve` writes one access-log line per request with its timing."""

    def _serve(self) -> None:
        started = time.perf_counter()
        gateway = self.server.gateway
        if gateway is None:
            self._write(gateway_error(503, None, "Service is starting"))
            return
        body = self._read_body()
        if body is None:
            self._discard_body()
            self.close_connection = True
            self._write(gateway_error(413, self.headers.get("Origin")))
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            client_ip=self.client_address[0],
            server_port=self.server.port,
        )
        try:
            response = gateway.handle(request)
        except Exception as error:  # a bug in the runtime itself; still answer like AWS
            traceback.print_exception(error, file=sys.stderr)
            response = gateway_error(500, request.header("Origin"))
        self._write(response)
        if self.server.access_log:
            elapsed = (time.perf_counter() - started) * 1000
            sys.stderr.write(
                f"{self.command} {self.path} -> {response.status} ({elapsed:.0f} ms)\n"
            )

    def _read_body(self) -> bytes | None:
        """The request body, or None when it is over API Gateway's 6 MB limit."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _discard_body(self) -> None:
        """Read (a bounded amount of) an oversized body, so the client sees the 413 rather
        than a connection reset for closing a socket it is still writing to."""
        remaining = min(int(self.headers.get("Content-Length") or 0), _DISCARD_LIMIT)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                return
            remaining -= len(chunk)

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_PAYLOAD_BYTES:
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)
