"""The `responses=` of the public key and key rotation routes (functions/jwts): references
to their answer models in `tokens.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

KEY_SET = answers("portcullis.tokens.outputs:KeySet")
PUBLIC_KEYS = answers("portcullis.tokens.outputs:PublicKeyPage")
ROTATED = answers("portcullis.tokens.outputs:RotatedKey")
WITHDRAWN = answers("portcullis.tokens.outputs:PublicKeyDone")
