"""`GET /v0/openapi.json`: the API's OpenAPI 3.1 document (docs/openapi.md), public.

The document is generated at build time (`python -m infra.openapi`) from every
function's resolver and committed next to this file; serving that copy keeps this
function's cold start to its own import (it never imports the other functions).
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from portcullis.platform.http import JSON_TYPE, Response, create_app, handler, header

app = create_app()

DOCUMENT = Path(__file__).with_name("openapi.json")
# Public and the same for every caller; a deploy changes it (and its ETag).
CACHE_CONTROL = "public, max-age=300"


@cache
def _document() -> tuple[str, str]:
    """(text, strong ETag), read once per instance on first use."""
    text = DOCUMENT.read_text(encoding="utf-8")
    return text, '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'


# Declared as a plain schema: this function never imports pydantic models.
ANSWERS: dict[int, Any] = {
    200: {
        "description": "The OpenAPI 3.1 document",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["openapi", "info", "paths"],
                    "properties": {
                        "openapi": {"type": "string"},
                        "info": {"type": "object"},
                        "paths": {"type": "object"},
                    },
                }
            }
        },
    },
    304: {"description": "Not modified (`If-None-Match` named the current `ETag`)", "content": {}},
}


@app.get("/v0/openapi.json", responses=ANSWERS)
def read_document() -> Response[str]:
    text, etag = _document()
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if etag in (header(app, "if-none-match") or "").replace("W/", "").split(", "):
        return Response(status_code=304, body="", headers=headers)
    return Response(status_code=200, content_type=JSON_TYPE, body=text, headers=headers)


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
