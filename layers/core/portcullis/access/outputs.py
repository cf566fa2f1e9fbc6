"""The answers of the API key and role routes (api-server §9, §11) as pydantic models,
for the OpenAPI document (docs/openapi.md): documentation only, checked by the tests
against live answers (`tests/api/conformance.py`). Shapes shared by many routes (the list
envelope, `{message, result}`) are `portcullis.platform.outputs`."""

from __future__ import annotations

from typing import Literal

from portcullis.platform.outputs import Answer, Done, Page

Mode = Literal["test", "live"]
KeyType = Literal["admin", "readonly", "webhook"]


class KeyStatus(Answer):
    """What `POST /v0/keys/verify` says of a key: never the key itself."""

    type: KeyType
    tenantId: str
    mode: Mode
    isActive: bool


class ApiKey(KeyStatus):
    """A key as listed, invalidated or deleted: masked (`isMasked`) but on creation."""

    key: str
    createdAt: str
    updatedAt: str


class KeyCreated(ApiKey):
    """The only answer that carries the whole key: it is stored as a digest."""


class Role(Answer):
    name: str
    tenantId: str
    createdAt: str


class RoleDeleted(Answer):
    name: str
    usersUpdated: int


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
ApiKeyPage = Page[ApiKey]
KeyStatusDone = Done[KeyStatus]
ApiKeyDone = Done[ApiKey]
RolePage = Page[Role]
RoleDeletedDone = Done[RoleDeleted]
