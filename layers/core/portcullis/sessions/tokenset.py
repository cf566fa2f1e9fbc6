"""The token set a sign-in or refresh answers (api-client §1.3, §10) and the log-out
answer, as pydantic models for the OpenAPI document (docs/openapi.md): documentation
only, checked by the tests against live answers (`tests/api/conformance.py`).

`auth.outputs` embeds the token set in `SignedIn`; `self`'s refresh and log-out answer
the others. Named by reference (`sessions/responses.py`): no function imports it.
"""

from __future__ import annotations

from portcullis.platform.outputs import Answer, Mode


class CookieOptions(Answer):
    expires: float
    sameSite: str
    secure: bool


class Token(Answer):
    value: str
    cookieOptions: CookieOptions


class Tokens(Answer):
    """§1.3: what the client stores as cookies."""

    access: Token
    id: Token
    refresh: Token


class Refreshed(Answer):
    """`GET /v0/auth/refresh` (§10)."""

    message: str
    mode: Mode
    sessionId: str
    tokens: Tokens


class LoggedOut(Answer):
    message: str
