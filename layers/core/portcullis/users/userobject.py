"""The User object of the API answers (api-client §1.2, api-server §7) as pydantic
models, for the OpenAPI document (docs/openapi.md): documentation only, checked by the
tests against live answers (`tests/api/conformance.py`).

The sign-in answers (`auth.outputs`) embed it; the user and role routes and `/v0/self`
answer it alone. Named by reference (`users/responses.py`): no function imports it.
"""

from __future__ import annotations

from typing import Any

from portcullis.platform.outputs import Answer, Mode


class Factor(Answer):
    channel: str | None
    strategy: str | None


class Factors(Answer):
    """The tenant's (or user's) sign-in factors (§1.2)."""

    firstFactors: list[Factor]
    secondFactors: list[Factor]


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


class UserList(Answer):
    """A page of users (api-server §7.2, §7.3; `meta` on searches)."""

    results: list[User]
    totalCount: int
    totalPages: int
