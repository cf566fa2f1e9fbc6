"""The API key object the server API answers on creation (api-server §11) as a pydantic
model, for the OpenAPI document (docs/openapi.md): documentation only, checked by the
tests against live answers (`tests/api/conformance.py`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from portcullis.platform.http import answers
from portcullis.platform.models import OPEN as _OPEN


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
