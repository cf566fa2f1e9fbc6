"""The tenant object the server API answers (api-server §8) as a pydantic model, for the
OpenAPI document (docs/openapi.md): documentation only, checked by the tests against
live answers (`tests/api/conformance.py`). It names the fields every tenant answer
carries; answers may carry more."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from portcullis.platform.http import answers
from portcullis.platform.models import OPEN as _OPEN


class Tenant(BaseModel):
    model_config = _OPEN
    tenantId: str
    uuid: str
    name: str
    mode: Literal["test", "live"]
    type: str
    image: str | None
    data: dict[str, Any]
    parent: dict[str, Any] | None
    roles: list[Any]
    createdAt: str
    updatedAt: str


# The `responses=` of the tenant routes (functions/tenants).
TENANT = answers(Tenant)
