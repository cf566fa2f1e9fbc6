"""The `responses=` of routes of many packages: references to their answer models in
`platform.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

MESSAGE = answers("portcullis.platform.outputs:Message")
