"""The API key object the server API answers on creation (api-server §11) and the role
object (§9.2) as pydantic models, for the OpenAPI document (docs/openapi.md):
documentation only, checked by the tests against live answers (`tests/api/conformance.py`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from portcullis.platform.http import answers

_OPEN = ConfigDict(extra="allow", defer_build=True)


class KeyCreated(BaseModel):
    """The only answer that carries the whole key: it is stored as a digest."""

    model_config = _OPEN
    key: str
    type: Literal["admin", "readonly", "webhook"]
    tenantId: str
    mode: Literal["test", "live"]
    isActive: bool
    createdAt: str
    updatedAt: str


# The `responses=` of `POST /v0/keys` (functions/keys).
KEY_CREATED = answers(KeyCreated)


class Role(BaseModel):
    """A role definition (api-server §9.2): `name` is its id (`DELETE …/roles/{roleName}`)."""

    model_config = _OPEN
    name: str
    tenantId: str
    createdAt: str


# The `responses=` of `POST /v0/roles` and `POST /v0/tenants/{tenantId}/roles` (functions/roles).
ROLE = answers(Role)
