"""One exception hierarchy; `http.py` turns each into the error envelope (api-server §1.1)."""

from __future__ import annotations

from typing import Any

# The 429 message of the client API (api-client §4); the server API says "Too many requests".
CLIENT_RATE_LIMITED = "Too many requests, please try again later"
# A link, code or token that is unknown, used, expired or revoked: one answer for all.
INVALID_TOKEN = "Invalid token"


class PortcullisError(Exception):
    status_code = 400
    error_type = "bad_request_error"
    default_message = "Bad Request"

    def __init__(
        self,
        message: str | None = None,
        *,
        error_type: str | None = None,
        result: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        if error_type:
            self.error_type = error_type
        self.result = result
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "statusCode": self.status_code,
            "message": self.message,
            "error": {"type": self.error_type},
        }
        if self.result is not None:
            body["result"] = self.result
        return body


class BadRequest(PortcullisError):
    status_code = 400


class Unauthorized(PortcullisError):
    status_code = 401
    default_message = "Unauthorized"


class MissingAuthentication(Unauthorized):
    default_message = "Missing authentication"


class Forbidden(PortcullisError):
    status_code = 403
    default_message = "Forbidden"


class NotFound(PortcullisError):
    status_code = 404
    default_message = "Not Found"


class MethodNotAllowed(PortcullisError):
    status_code = 405
    default_message = "Method Not Allowed"


class PayloadTooLarge(PortcullisError):
    status_code = 413
    default_message = "Request body is too large"


class TooManyRequests(PortcullisError):
    status_code = 429
    error_type = "rate_limit_error"
    default_message = "Too many requests"

    def __init__(
        self, message: str | None = None, *, retry_after: int, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(
            message, headers={**(headers or {}), "Retry-After": str(max(1, int(retry_after)))}
        )
        self.retry_after = retry_after


class ServiceUnavailable(PortcullisError):
    status_code = 502
    default_message = "An upstream service failed"


class InternalError(PortcullisError):
    status_code = 500
    default_message = "An internal server error occurred"
