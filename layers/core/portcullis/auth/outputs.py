"""The answers of the client API's routes (api-client §1, §6–§10) as pydantic models,
next to their request bodies (`inputs`): they make the OpenAPI document honest
(docs/openapi.md). Routes declare them with `portcullis.platform.http.answers(...)`.

Documentation only: the flows build their answers as dicts and nothing validates them
at run time (no cost per request). The tests check live answers against the document
these models produce (`tests/api/conformance.py`, the schemathesis run), so a flow that
drifts from its model fails there.

Each model names the fields every answer carries, with their types; answers may carry
more (`extra="allow"`: additional properties are allowed).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from portcullis.platform.http import answers
from portcullis.platform.models import OPEN as _OPEN

Mode = Literal["test", "live"]


class Factor(BaseModel):
    model_config = _OPEN
    channel: str | None
    strategy: str | None


class Factors(BaseModel):
    """The tenant's (or user's) sign-in factors (§1.2)."""

    model_config = _OPEN
    firstFactors: list[Factor]
    secondFactors: list[Factor]


class ModeAnswer(BaseModel):
    """`GET /v0/tenants/{tenantId}/mode`."""

    model_config = _OPEN
    mode: Mode
    authentication: Factors


class CookieOptions(BaseModel):
    model_config = _OPEN
    expires: float
    sameSite: str
    secure: bool


class Token(BaseModel):
    model_config = _OPEN
    value: str
    cookieOptions: CookieOptions


class Tokens(BaseModel):
    """§1.3: what the client stores as cookies."""

    model_config = _OPEN
    access: Token
    id: Token
    refresh: Token


class TenantRef(BaseModel):
    model_config = _OPEN
    tenantId: str
    name: str


class User(BaseModel):
    """The user object (§1.2, api-server §7)."""

    model_config = _OPEN
    userId: int
    userUuid: str
    tenantId: str
    mode: Mode
    email: str | None
    phoneNumber: str | None
    username: str | None
    name: str
    image: str | None
    data: dict[str, Any]
    locked: bool
    isConfirmed: bool
    isEmailConfirmed: bool
    isPhoneNumberConfirmed: bool
    isMfaRequired: bool
    authorization: dict[str, Any]
    authentication: Factors
    createdAt: str
    updatedAt: str
    lastActiveAt: str | None
    tenant: TenantRef


class SignedIn(User):
    """§1.4: a completed sign-up or log-in (the user, its tokens and its session)."""

    message: str
    sessionId: str
    nonce: str
    tokens: Tokens


class FirstFactor(BaseModel):
    model_config = _OPEN
    firstFactor: Factor
    secondFactors: list[Factor]


class MfaRequired(BaseModel):
    """§1.5: the first factor passed; a second one is needed (never tokens)."""

    model_config = _OPEN
    mode: Mode
    message: str
    isMfaRequired: Literal[True]
    firstFactorToken: str
    authentication: FirstFactor


class PkceRequired(BaseModel):
    """§1.6: a PKCE log-in answers a code to exchange, never tokens."""

    model_config = _OPEN
    message: str
    authorizationCode: str
    redirectTo: str | None


class Message(BaseModel):
    """A link or code sent, a password reset requested, an action done (§1.7)."""

    model_config = _OPEN
    message: str


class Refreshed(BaseModel):
    """`GET /v0/auth/refresh` (§10)."""

    model_config = _OPEN
    message: str
    mode: Mode
    sessionId: str
    tokens: Tokens


class LoggedOut(BaseModel):
    model_config = _OPEN
    message: str


LogInAnswer = SignedIn | MfaRequired | PkceRequired


class UserList(BaseModel):
    """A page of users (api-server §7.2, §7.3; `meta` on searches)."""

    model_config = _OPEN
    results: list[User]
    totalCount: int
    totalPages: int


# The `responses=` of the server API's user routes (functions/users).
USER = answers(User)
USERS = answers(UserList)
