"""The service provider object the SAML admin routes answer (docs/saml.md) as a pydantic
model, for the OpenAPI document (docs/openapi.md): documentation only, checked by the
tests against live answers (`tests/api/conformance.py`). It names the fields every answer
carries (`sps.view`); the SP's configuration fields come with it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from portcullis.platform.http import answers

_OPEN = ConfigDict(extra="allow", defer_build=True)


class ServiceProvider(BaseModel):
    """`spId` is the registration's id (`GET …/saml/sps/{spId}`)."""

    model_config = _OPEN
    spId: str
    tenantId: str
    entityId: str
    createdAt: str
    updatedAt: str


# The `responses=` of `POST /v0/tenants/{tenantId}/saml/sps` (functions/saml).
SERVICE_PROVIDER = answers(ServiceProvider)
