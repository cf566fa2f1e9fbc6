"""The tenant object the server API answers (api-server §8) as a pydantic model, for the
OpenAPI document (docs/openapi.md): documentation only, checked by the tests against
live answers (`tests/api/conformance.py`). It names the fields every tenant answer
carries; answers may carry more."""

from __future__ import annotations

from typing import Any, Literal

from portcullis.platform.outputs import Answer, Page


class TenantSummary(Answer):
    """The fields every tenant answer carries."""

    tenantId: str
    uuid: str
    name: str
    mode: Literal["test", "live"]
    type: str
    image: str | None
    data: dict[str, Any]
    createdAt: str
    updatedAt: str


class Tenant(TenantSummary):
    """The tenant object (create, read, update, delete)."""

    parent: dict[str, Any] | None
    roles: list[Any]


class ChildTenant(TenantSummary):
    """A tenant as tenant find lists it (api-server §8.6)."""

    parentTenantId: str


class Settings(Answer):
    """`tenancy.settings.as_json`: the tenant's effective settings (api-server §8.5);
    every other setting (redirect paths, webhook URLs, ...) follows."""

    authentication: dict[str, Any]
    mfa: dict[str, Any]
    rateLimits: dict[str, Any]
    liveDomains: list[Any]
    accessTokenDuration: int
    refreshTokenDuration: int


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
ChildTenantPage = Page[ChildTenant]
