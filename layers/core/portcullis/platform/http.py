"""The shared Powertools resolver setup: error envelope, CORS, body limits, JSON encoding.

Every function builds its resolver with `create_app()` and exports `lambda_handler =
handler(app)`. Nothing here knows about DynamoDB; route functions call the core.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler import Response as Response  # re-exported for routes
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from portcullis.platform import config, jsonbody, jsoninput
from portcullis.platform.errors import (
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PortcullisError,
)
from portcullis.platform.origins import cors_origin
from portcullis.platform.validation import first_message

logger = Logger(service="portcullis")

JSON_TYPE = "application/json; charset=utf-8"
UNENCODABLE = "Strings must be valid Unicode text (no unpaired surrogates)"
MAX_BODY_BYTES = 1024 * 1024
ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
ALLOW_HEADERS = "authorization, content-type, x-userfront-source, x-application-id, x-origin"


def error_response(error: PortcullisError) -> Response[str]:
    return Response(
        status_code=error.status_code,
        content_type=JSON_TYPE,
        body=jsonbody.dumps(error.envelope()),
        headers=dict(error.headers),
    )


def json_response(body: Any, *, headers: dict[str, str] | None = None) -> Response[Any]:
    """A 200 with explicit headers (e.g. caching); plain dict returns need no wrapper."""
    return Response(status_code=200, content_type=JSON_TYPE, body=body, headers=headers or {})


# Where `answers` keeps its reference to an answer model: a key of our own, so Powertools
# (which reads `"model"`) neither imports nor builds the model; `infra/openapi.py` swaps
# it for `"model"` when it generates the document.
ANSWER_MODEL = "x-portcullis-model"


def answers(model: str, description: str = "OK") -> dict[int, Any]:
    """A route's `responses=`: its 200 answer, named by a reference to its model for the
    OpenAPI document (docs/openapi.md), `"portcullis.auth.outputs:SignedIn"` (module:
    attribute; a generic one through its alias, `ClaimPage = Page[Claim]`).

    A reference, not the class: the models are documentation only (nothing validates
    answers at run time; the tests check live answers against the document), yet as
    classes they cost every cold start their building and every route's first request a
    TypeAdapter of them (Powertools' `responses` "model"). Only the generator imports
    them; `tests/unit/test_openapi_document.py` checks that every reference resolves."""
    module, _, name = model.partition(":")
    if not module or not name.isidentifier():
        raise ValueError(f"answers({model!r}): expected 'package.module:Model'")
    content = {"application/json": {ANSWER_MODEL: model}}
    return {200: {"description": description, "content": content}}


def create_app(
    *, credentials: Callable[[APIGatewayRestResolver], object] | None = None
) -> APIGatewayRestResolver:
    """The resolver of one function.

    Powertools validates a route's input before the route runs, so on its own a bad
    body would answer 400 before the route ever checked the caller. `credentials`
    (raising 401/403/429 for a caller it refuses) is therefore run when input fails
    validation: a request without valid credentials learns that, never how its input
    would have been judged (api-server §4: the credential is checked first).
    """
    app = APIGatewayRestResolver(
        enable_validation=True,
        serializer=jsonbody.dumps,
        json_body_deserializer=jsoninput.loads,
    )

    @app.exception_handler(PortcullisError)
    def _portcullis_error(error: PortcullisError) -> Response[str]:
        return error_response(error)

    def bad_input(message: str) -> Response[str]:
        """400 for input that failed before the route ran, after the credential check."""
        from portcullis.platform.errors import BadRequest

        if credentials is not None:
            try:
                credentials(app)
            except PortcullisError as refused:
                return error_response(refused)
        return error_response(BadRequest(message))

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response[str]:
        errors = list(error.errors())
        if errors and tuple(errors[0].get("loc", ()))[:1] == ("response",):
            logger.error("Response failed validation", extra={"errors": str(errors)[:2000]})
            return error_response(InternalError())
        return bad_input(first_message(errors))

    @app.exception_handler(jsoninput.InvalidValue)
    def _invalid_value(error: jsoninput.InvalidValue) -> Response[str]:
        # Raised while the body is parsed (e.g. a 5,000-digit integer, "\ud800").
        return bad_input(error.message)

    @app.exception_handler(RecursionError)
    def _too_deep(_: RecursionError) -> Response[str]:
        # Powertools parses bodies with json.loads, which recurses per nesting level.
        return bad_input('"body" must be valid JSON')

    @app.exception_handler(UnicodeEncodeError)
    def _unencodable(_: UnicodeEncodeError) -> Response[str]:
        # JSON may carry "\ud800" (an unpaired surrogate): a valid JSON string that is
        # not text, which fails wherever it is encoded (hashing, DynamoDB keys).
        return bad_input(UNENCODABLE)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        path = app.current_event.path
        routes = app._static_routes + app._dynamic_routes
        if any(route.rule.match(path) for route in routes):
            return error_response(MethodNotAllowed())
        return error_response(NotFound())

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        request_id = (app.current_event.request_context.request_id) if app.current_event else None
        logger.exception("Unhandled error", extra={"requestId": request_id})
        return error_response(InternalError())

    return app


def _header(event: dict[str, Any], name: str) -> str | None:
    headers: dict[str, str | None] = event.get("headers") or {}
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def cors_headers(origin: str | None) -> dict[str, str]:
    """Echo the caller's origin (api-client §0.5): the origin picks a mode, never grants access.

    What is echoed is our serialisation of an origin the strict reader accepts
    (`origins.cors_origin`), never the header as sent."""
    allowed = {cors_origin(o) or o for o in config.allowed_origins()}
    echoed = cors_origin(origin)
    if echoed and ("*" in allowed or echoed in allowed):
        return {"Access-Control-Allow-Origin": echoed, "Vary": "Origin"}
    if not origin and "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    if echoed is None and "*" in allowed:
        # `null` (file and sandboxed pages) or an origin we do not read: `*` serves it
        # (no credentials are used) without repeating what it sent.
        return {"Access-Control-Allow-Origin": "*", "Vary": "Origin"}
    return {"Vary": "Origin"}


def _preflight(origin: str | None) -> dict[str, Any]:
    headers = cors_headers(origin)
    headers.update(
        {
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
        }
    )
    return {"statusCode": 204, "headers": headers, "body": "", "isBase64Encoded": False}


def _body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(base64.b64decode(body, validate=False))
    return len(body.encode("utf-8"))


def handler(
    app: APIGatewayRestResolver, *, max_body_bytes: int = MAX_BODY_BYTES
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Wrap the resolver with what every route shares: preflight, size limit, CORS headers."""

    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _adopt_stage_variables(event)
        origin = _header(event, "origin")
        path = event.get("path") or "/"
        if len(path) > 1 and path.endswith("/"):
            event["path"] = path.rstrip("/") or "/"
        if (event.get("httpMethod") or "").upper() == "OPTIONS":
            return _preflight(origin)
        if event.get("isBase64Encoded") and event.get("body"):
            try:
                event["body"] = base64.b64decode(event["body"]).decode("utf-8")
                event["isBase64Encoded"] = False
            except (ValueError, UnicodeDecodeError):
                return _finish(error_response(_bad_encoding()), origin)
        if _body_size(event) > max_body_bytes:
            return _finish(error_response(PayloadTooLarge()), origin)
        extra = _response_headers.set({})
        try:
            result = app.resolve(event, context)
            headers = result.setdefault("headers", {}) or {}
            headers.update(_response_headers.get() or {})
        finally:
            _response_headers.reset(extra)
        headers.update(cors_headers(origin))
        result["headers"] = headers
        multi = result.get("multiValueHeaders") or {}
        for key in list(multi):
            if key in headers:
                del multi[key]
        return result

    return lambda_handler


def _adopt_stage_variables(event: dict[str, Any]) -> None:
    """The template passes the API's own URL as a stage variable (an environment variable
    would make the API and its functions depend on each other); it is fixed per stage."""
    stage_url = (event.get("stageVariables") or {}).get("PUBLIC_BASE_URL")
    if stage_url and not os.environ.get("PUBLIC_BASE_URL"):
        os.environ["PUBLIC_BASE_URL"] = stage_url


def _bad_encoding() -> PortcullisError:
    from portcullis.platform.errors import BadRequest

    return BadRequest('"body" must be valid UTF-8 JSON')


def _finish(response: Response[Any], origin: str | None) -> dict[str, Any]:
    headers = {"Content-Type": JSON_TYPE, **response.headers, **cors_headers(origin)}
    return {
        "statusCode": response.status_code,
        "headers": {k: v if isinstance(v, str) else ", ".join(v) for k, v in headers.items()},
        "body": response.body,
        "isBase64Encoded": False,
    }


def header(app: APIGatewayRestResolver, name: str) -> str | None:
    """Case-insensitive header lookup (the client spells `authorization` both ways)."""
    return _header(app.current_event.raw_event, name.lower())


def source_ip(app: APIGatewayRestResolver) -> str:
    identity = (app.current_event.raw_event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "0.0.0.0")


# Headers a route adds to whatever its request answers, errors included (the
# per-credential `X-RateLimit-*`); one dict per request, set by `handler`.
_response_headers: ContextVar[dict[str, str] | None] = ContextVar("response_headers", default=None)


def added_headers() -> dict[str, str]:
    """The headers this request's answer will carry besides its own (see `handler`),
    errors included; a throwaway dict when resolved without `handler` (a test)."""
    added = _response_headers.get()
    return {} if added is None else added
