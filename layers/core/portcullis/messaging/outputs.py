"""The answers of the email template routes (docs/emails.md) as pydantic models, for the
OpenAPI document (docs/openapi.md): documentation only, checked by the tests against
live answers (`tests/api/conformance.py`)."""

from __future__ import annotations

from typing import Literal

from portcullis.platform.outputs import Answer


class TemplateRef(Answer):
    type: str
    tenantId: str
    mode: Literal["test", "live"]


class Template(TemplateRef):
    """`templateadmin.describe`: the template in use, each of its parts (`subject`,
    `html`, ... by type) and where it comes from."""

    source: Literal["tenant", "workspace", "default"]
    updatedAt: str | None
    variables: list[str]
    customParts: list[str]


class Preview(TemplateRef):
    """`templateadmin.preview`: the rendered parts, with sample values."""
