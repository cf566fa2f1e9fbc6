"""The JSON answers of the SAML IdP routes (docs/saml.md) as pydantic models, for the
OpenAPI document (docs/openapi.md): documentation only, checked by the tests against
live answers (`tests/api/conformance.py`). The browser routes answer HTML, metadata XML
and redirects (`infra/openapi.py`, `SAML_BROWSER_RESPONSES`)."""

from __future__ import annotations

from typing import Any

from portcullis.platform.outputs import Answer, Page


class Fingerprinted(Answer):
    certificate: str
    sha1Fingerprint: str
    sha256Fingerprint: str


class Certificate(Fingerprinted):
    """One published IdP certificate; `signing` for the one that signs."""

    kid: str
    createdAt: str
    signing: bool


class IdentityProvider(Fingerprinted):
    """`idp.info`: what a service provider needs to trust this IdP (the signing
    certificate first, every published one in `certificates`)."""

    entityId: str
    metadataUrl: str
    loginUrl: str
    logoutUrl: str
    certificates: list[Certificate]


class ServiceProvider(Answer):
    spId: str
    tenantId: str
    name: str
    entityId: str
    acsUrl: str
    logoutUrl: str | None
    nameIdFormat: str
    signAssertion: bool
    signResponse: bool
    allowIdpInitiated: bool
    attributeMapping: dict[str, Any]
    spCertificate: str | None
    isActive: bool
    createdAt: str
    updatedAt: str


class HandOff(Answer):
    """`GET /v0/auth/saml/idp/token`: the short-lived token the log-in page hands back."""

    token: str


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
ServiceProviderPage = Page[ServiceProvider]
