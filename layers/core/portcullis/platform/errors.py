"""One exception hierarchy; `http.py` turns each into the error envelope (api-server §1.1)."""

from __future__ import annotations

from typing import Any

# The 429 message of the client API (api-client §4); the server API says "Too many requests".
CLIENT_RATE_LIMITED = "Too many requests, please try again later"
# A link, code or token that is unknown, used, expired or revoked: one answer for all.
INVALID_TOKEN = "Invalid token"


class PortcullisError(Exception):
    """The base: 400 `bad_request_error`. A subclass names its own status and default
    message in its class line (`class NotFound(PortcullisError, status=404, ...)`), so
    the whole table of errors reads as one line each."""

    status_code = 400
    error_type = "bad_request_error"
    default_message = "Bad Request"

    def __init_subclass__(
        cls,
        *,
        status: int | None = None,
        message: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init_subclass__()
        if status is not None:
            cls.status_code = status
        if message is not None:
            cls.default_message = message
        if error_type is not None:
            cls.error_type = error_type

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


class BadRequest(PortcullisError, status=400): ...


class Unauthorized(PortcullisError, status=401, message="Unauthorized"): ...


class MissingAuthentication(Unauthorized, message="Missing authentication"): ...


class Forbidden(PortcullisError, status=403, message="Forbidden"): ...


class NotFound(PortcullisError, status=404, message="Not Found"): ...


class MethodNotAllowed(PortcullisError, status=405, message="Method Not Allowed"): ...


class PayloadTooLarge(PortcullisError, status=413, message="Request body is too large"): ...


class TooManyRequests(
    PortcullisError, status=429, message="Too many requests", error_type="rate_limit_error"
):
    def __init__(
        self, message: str | None = None, *, retry_after: int, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(
            message, headers={**(headers or {}), "Retry-After": str(max(1, int(retry_after)))}
        )
        self.retry_after = retry_after


class ServiceUnavailable(PortcullisError, status=502, message="An upstream service failed"): ...


class InternalError(PortcullisError, status=500, message="An internal server error occurred"): ...
