"""The `responses=` of the import routes (functions/imports): references to their answer
models in `imports.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

IMPORT = answers("portcullis.imports.outputs:ImportJob")
IMPORTS = answers("portcullis.imports.outputs:ImportSummaryPage")
