"""The `responses=` of the SSO routes (functions/sso): references to their answer models in
`sso.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from typing import Any

from portcullis.platform.http import answers

PROVIDER = answers("portcullis.sso.outputs:Provider")
PROVIDERS = answers("portcullis.sso.outputs:ProviderResults")
IDENTITIES = answers("portcullis.sso.outputs:Identities")

# The sign-on route answers a redirect, no JSON.
SIGN_ON: dict[int, Any] = {
    302: {
        "description": "To the provider's authorization page, or back to the app with an "
        "error (`Location`)",
        "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
        "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
    }
}
