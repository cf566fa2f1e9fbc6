"""The `responses=` of the email template routes (functions/emails): references to their
answer models in `messaging.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

TEMPLATE = answers("portcullis.messaging.outputs:Template")
PREVIEW = answers("portcullis.messaging.outputs:Preview")
