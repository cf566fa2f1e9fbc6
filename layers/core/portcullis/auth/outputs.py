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

from pydantic import Field

from portcullis.platform.http import answers
from portcullis.platform.outputs import Answer, Done, Free

Mode = Literal["test", "live"]


class Factor(Answer):
    channel: str | None
    strategy: str | None


class Factors(Answer):
    """The tenant's (or user's) sign-in factors (§1.2)."""

    firstFactors: list[Factor]
    secondFactors: list[Factor]


class ModeAnswer(Answer):
    """`GET /v0/tenants/{tenantId}/mode`."""

    mode: Mode
    authentication: Factors


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


class TenantRef(Answer):
    tenantId: str
    name: str


class User(Answer):
    """The user object (§1.2, api-server §7)."""

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


class FirstFactor(Answer):
    firstFactor: Factor
    secondFactors: list[Factor]


class MfaRequired(Answer):
    """§1.5: the first factor passed; a second one is needed (never tokens)."""

    mode: Mode
    message: str
    isMfaRequired: Literal[True]
    firstFactorToken: str
    authentication: FirstFactor


class PkceRequired(Answer):
    """§1.6: a PKCE log-in answers a code to exchange, never tokens."""

    message: str
    authorizationCode: str
    redirectTo: str | None


class Refreshed(Answer):
    """`GET /v0/auth/refresh` (§10)."""

    message: str
    mode: Mode
    sessionId: str
    tokens: Tokens


class LoggedOut(Answer):
    message: str


LogInAnswer = SignedIn | MfaRequired | PkceRequired


class UserList(Answer):
    """A page of users (api-server §7.2, §7.3; `meta` on searches)."""

    results: list[User]
    totalCount: int
    totalPages: int


class TotpSetup(Answer):
    """`GET /v0/auth/totp` (§9.5): the secret, its QR code, and the backup codes (empty
    when TOTP is already active: they are shown once)."""

    totpSecret: str
    qrCode: str
    backupCodes: list[str]


class Passthrough(Answer):
    """`passthroughconfig.describe_stored` (docs/passthrough.md): the settings of the
    tenant's old login service, secrets masked (`"********"` when set)."""

    enabled: bool
    url: str | None
    method: str
    headers: dict[str, str]
    bodyFormat: str
    bodyTemplate: Any
    passthroughCode: str | None
    passbackCode: str | None
    timeoutMs: int
    createOnPassthrough: bool
    updatedAt: str | None


class Counts(Answer):
    attempts: int
    migrated: int
    refused: int
    unavailable: int


class DayCounts(Counts):
    date: str


class PassthroughMetrics(Answer):
    """`passthroughmetrics.report`: log-ins sent to the old service, per day and in all."""

    from_: str = Field(alias="from")
    to: str
    days: list[DayCounts]
    totals: Counts


Receipt = Done[Free]
"""Verify email / phone (§7.9): the delivery receipt, or the link or code in test mode."""

# The `responses=` of the client routes (functions/auth) that are not a log-in.
TOTP_SETUP = answers(TotpSetup)
SIGNED_IN = answers(SignedIn)
PASSTHROUGH = answers(Passthrough)
PASSTHROUGH_METRICS = answers(PassthroughMetrics)
# The `responses=` of the server API's user routes (functions/users).
USER = answers(User)
USERS = answers(UserList)
