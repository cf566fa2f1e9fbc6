"""The answers of the SSO admin routes (docs/sso.md) as pydantic models, for the OpenAPI
document (docs/openapi.md): documentation only, checked by the tests against live
answers (`tests/api/conformance.py`). The sign-on route answers a redirect
(`responses.SIGN_ON`)."""

from __future__ import annotations

from portcullis.platform.outputs import Answer, Results


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


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
ProviderResults = Results[Provider]
