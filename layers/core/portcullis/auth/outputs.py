"""The answers of the client API's routes (api-client §1, §6–§10) as pydantic models,
next to their request bodies (`inputs`): they make the OpenAPI document honest
(docs/openapi.md). Routes name them by reference (`auth/responses.py`,
`portcullis.platform.http.answers`): only the OpenAPI generator imports this module.

Documentation only: the flows build their answers as dicts and nothing validates them
at run time (no cost per request). The tests check live answers against the document
these models produce (`tests/api/conformance.py`, the schemathesis run), so a flow that
drifts from its model fails there.

Each model names the fields every answer carries, with their types; answers may carry
more (`extra="allow"`: additional properties are allowed). The User object they embed is
`users.userobject`, the tokens and the refresh and log-out answers `sessions.tokenset`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from portcullis.platform.outputs import Answer, Done, Free, Mode
from portcullis.sessions.tokenset import Tokens
from portcullis.users.userobject import Factor, Factors, User


class ModeAnswer(Answer):
    """`GET /v0/tenants/{tenantId}/mode`."""

    mode: Mode
    authentication: Factors


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


LogInAnswer = SignedIn | MfaRequired | PkceRequired


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
