"""The `responses=` that routes of many packages share (`MESSAGE`: a `{message}`
acknowledgement): references to their answer models in `platform.outputs`, which only the
OpenAPI generator imports (`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

MESSAGE = answers("portcullis.platform.outputs:Message")
