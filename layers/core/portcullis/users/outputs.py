"""The answers of the server API's user actions that are not a User object (api-server
§7.8, §13.1) as pydantic models, for the OpenAPI document (docs/openapi.md):
documentation only, checked by the tests against live answers
(`tests/api/conformance.py`). The User object itself is `users.userobject.User`."""

from __future__ import annotations

from portcullis.platform.outputs import Answer, Free, Message, Page


class IssuedLink(Answer):
    """The link credentials `invitations.generate_link` issued; nothing is sent."""

    uuid: str
    token: str
    type: str
    expiresAt: str
    userId: int
    email: str | None


class GeneratedLink(Message):
    uuid: str
    token: str
    result: IssuedLink


class MarkedActive(Message):
    lastActiveAt: str


class MintedJwt(Answer):
    """`POST /v0/tenants/{tenantId}/auth/jwt` (docs/customjwt.md): the token and the
    claims it carries."""

    accessToken: str
    expiresAt: str
    payload: Free


class JwtFormat(Answer):
    format: Free
    isDefault: bool
    updatedAt: str | None


class Claim(Answer):
    path: str
    type: str


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
ClaimPage = Page[Claim]
