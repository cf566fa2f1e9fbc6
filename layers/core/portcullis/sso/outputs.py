"""The answers of the SSO admin routes (docs/sso.md) as pydantic models, for the OpenAPI
document (docs/openapi.md): documentation only, checked by the tests against live
answers (`tests/api/conformance.py`). The sign-on route answers a redirect
(`SIGN_ON`)."""

from __future__ import annotations

from typing import Any

from portcullis.platform.http import answers
from portcullis.platform.outputs import Answer, Message, Results


class Provider(Answer):
    """`config.describe`: a provider's settings, its secrets masked; the fields a
    provider kind takes (`clientId`, `issuer`, `endpoints`, ...) follow."""

    provider: str
    enabled: bool
    ready: bool
    updatedAt: str


class Identity(Answer):
    """A provider account linked to a user (`identities.view`); `providerId` for a
    custom provider."""

    provider: str
    subject: str
    linkedAt: str


class Identities(Answer):
    userUuid: str
    identities: list[Identity]


# The `responses=` of the SSO routes (functions/sso).
PROVIDER = answers(Provider)
PROVIDERS = answers(Results[Provider])
IDENTITIES = answers(Identities)
SIGN_ON: dict[int, Any] = {
    302: {
        "description": "To the provider's authorization page, or back to the app with an "
        "error (`Location`)",
        "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
        "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
    }
}
MESSAGE = answers(Message)
