"""The answers of the webhook admin routes (docs/webhooks.md) as pydantic models, for the
OpenAPI document (docs/openapi.md): documentation only, checked by the tests against
live answers (`tests/api/conformance.py`)."""

from __future__ import annotations

from typing import Any

from portcullis.platform.outputs import Answer, Page


class SigningSecret(Answer):
    """The new signing secret: shown once, stored sealed."""

    secret: str


class Delivery(Answer):
    """`delivery.delivery_json`: one event sent to one URL, its attempts and the body."""

    webhookId: str
    tenantId: str
    eventTenantId: str
    mode: str
    event: str
    url: str
    status: str
    attempts: list[dict[str, Any]]
    nextAttemptAt: str | None
    createdAt: str
    updatedAt: str
    payload: Any


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
DeliveryPage = Page[Delivery]
