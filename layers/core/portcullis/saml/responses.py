"""The `responses=` of the SAML admin routes (functions/saml): references to their answer
models in `saml.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

IDP = answers("portcullis.saml.outputs:IdentityProvider")
SP = answers("portcullis.saml.outputs:ServiceProvider")
SPS = answers("portcullis.saml.outputs:ServiceProviderPage")
HAND_OFF = answers("portcullis.saml.outputs:HandOff")
