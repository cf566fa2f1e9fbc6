"""HTTP requests as API Gateway REST (v1) proxy events, and proxy results back as HTTP.

The functions are written against what API Gateway sends in AWS, so the shape here follows
AWS rather than convenience: the `path` stays percent-encoded while path and query
parameters are decoded, absent maps are `null`, bodies that are not UTF-8 travel base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from infra.local.routing import RouteMatch
from infra.local.template import ACCOUNT_ID, CorsConfig
from portcullis.platform.origins import cors_origin

STAGE = "local"
API_ID = "local"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


@dataclass
class HttpRequest:
    """What the HTTP front received, before any API Gateway interpretation."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str
    server_port: int = 0

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0] or "/"

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        """Last value of a header, case-insensitively (HTTP header names are)."""
        lowered = name.lower()
        values = [value for key, value in self.headers if key.lower() == lowered]
        return values[-1] if values else None


@dataclass
class HttpResponse:
    """What goes back on the wire."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in reversed(self.headers) if k.lower() == lowered), None)


class InvalidProxyResult(Exception):
    """The function returned something API Gateway would answer with a 502."""


def build_proxy_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    request_id: str | None = None,
    now: float | None = None,
    stage_variables: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The event API Gateway's Lambda proxy integration would send for `request`."""
    now = time.time() if now is None else now
    request_id = request_id or str(uuid.uuid4())
    headers = _gateway_headers(request, now)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        existing = next((key for key in multi if key.lower() == name.lower()), name)
        multi.setdefault(existing, []).append(value)
        single[existing] = value
    query_pairs = parse_qsl(request.query, keep_blank_values=True)
    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for name, value in query_pairs:
        query_multi.setdefault(name, []).append(value)
        query_single[name] = value
    body, is_base64 = _event_body(request.body)
    return {
        "resource": match.route.path,
        "path": request.path,
        "httpMethod": request.method.upper(),
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": dict(match.path_parameters) or None,
        "stageVariables": dict(stage_variables) if stage_variables else None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": match.route.path,
            "httpMethod": request.method.upper(),
            "extendedRequestId": request_id,
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": request.path,
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": "127",
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": request.client_ip,
                "userAgent": request.header("User-Agent"),
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
            "domainName": request.header("Host") or "127.0.0.1",
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


def _gateway_headers(request: HttpRequest, now: float) -> list[tuple[str, str]]:
    """Request headers as API Gateway forwards them: hop-by-hop ones dropped, its own added."""
    headers = [
        (k, v)
        for k, v in request.headers
        if k.lower() not in _HOP_BY_HOP and k.lower() != "x-forwarded-for"
    ]
    forwarded = request.header("X-Forwarded-For")
    headers.append(
        ("X-Forwarded-For", f"{forwarded}, {request.client_ip}" if forwarded else request.client_ip)
    )
    present = {name.lower() for name, _ in headers}
    if "x-forwarded-proto" not in present:
        headers.append(("X-Forwarded-Proto", "http"))
    if "x-forwarded-port" not in present and request.server_port:
        headers.append(("X-Forwarded-Port", str(request.server_port)))
    if "x-amzn-trace-id" not in present:
        headers.append(("X-Amzn-Trace-Id", f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}"))
    return headers


def _event_body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def proxy_result_to_response(result: Any) -> HttpResponse:
    """Turn a Lambda proxy result into HTTP, merging headers the way API Gateway does.

    When a name is in both `headers` and `multiValueHeaders`, only the multi-value list is
    sent (AWS documents that `multiValueHeaders` wins).
    """
    if not isinstance(result, Mapping) or "statusCode" not in result:
        raise InvalidProxyResult("result is not a mapping with a statusCode")
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError) as error:
        raise InvalidProxyResult(
            f"statusCode {result['statusCode']!r} is not an integer"
        ) from error
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, Mapping) or not isinstance(multi, Mapping):
        raise InvalidProxyResult("headers/multiValueHeaders must be objects")
    headers: list[tuple[str, str]] = []
    multi_names = {name.lower() for name in multi}
    for name, values in multi.items():
        if not isinstance(values, list):
            raise InvalidProxyResult(f"multiValueHeaders[{name!r}] is not a list")
        headers.extend((name, _header_value(value)) for value in values)
    headers.extend(
        (name, _header_value(value))
        for name, value in single.items()
        if name.lower() not in multi_names
    )
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise InvalidProxyResult("body must be a string")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise InvalidProxyResult("isBase64Encoded body is not valid base64") from error
    else:
        payload = body.encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status=status, headers=headers, body=payload)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_ERROR_MESSAGES = {
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request body is too large",
    500: "An internal server error occurred",
    502: "Internal server error",
}


def gateway_error(status: int, origin: str | None, message: str | None = None) -> HttpResponse:
    """An error API Gateway answers itself, in the API's error envelope with CORS."""
    body = {
        "statusCode": status,
        "message": message or _ERROR_MESSAGES.get(status, "Error"),
        "error": {"type": "bad_request_error"},
    }
    return json_response(status, body, origin)


def json_response(status: int, body: Any, origin: str | None = None) -> HttpResponse:
    """A JSON response with the CORS origin echoed, like the gateway's own responses:
    our serialisation of an origin the strict reader accepts, else `*` (never the raw
    header, which could carry anything)."""
    return HttpResponse(
        status=status,
        headers=[
            ("Content-Type", "application/json"),
            ("Access-Control-Allow-Origin", cors_origin(origin) or "*"),
        ],
        body=json.dumps(body, separators=(",", ":")).encode("utf-8"),
    )


def preflight_response(
    cors: CorsConfig, resource_methods: Iterable[str], origin: str | None
) -> HttpResponse:
    """What SAM's generated OPTIONS mock integration answers for a resource."""
    methods = cors.allow_methods or ",".join(sorted({*resource_methods, "OPTIONS"} - {"ANY"}))
    if "ANY" in resource_methods and not cors.allow_methods:
        methods = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
    allow_origin = cors.allow_origin
    if allow_origin == "*" and cors.allow_credentials and cors_origin(origin):
        allow_origin = cors_origin(origin) or "*"
    headers = [
        ("Access-Control-Allow-Origin", allow_origin),
        ("Access-Control-Allow-Methods", methods),
        ("Content-Type", "application/json"),
    ]
    if cors.allow_headers:
        headers.append(("Access-Control-Allow-Headers", cors.allow_headers))
    if cors.max_age:
        headers.append(("Access-Control-Max-Age", cors.max_age))
    if cors.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    return HttpResponse(status=200, headers=headers, body=b"")
