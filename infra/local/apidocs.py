"""`GET /_local/docs`: Swagger UI over the API's own `/v0/openapi.json` (local only).

The UI's files come from the pinned `swagger-ui-bundle` dev dependency (a Python wheel
of swagger-ui's `dist/`), served from here: no CDN is needed, so the page also works
offline and in the tests.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from swagger_ui_bundle import swagger_ui_path

from infra.local.apigateway import HttpResponse

PREFIX = "/_local/docs"
_ASSETS = Path(swagger_ui_path).resolve()

# `persistAuthorization` keeps a pasted API key across reloads; the spec URL is
# relative, so the page works behind whatever host and port the runtime listens on.
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Portcullis API (local)</title>
  <link rel="stylesheet" href="/_local/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/_local/docs/swagger-ui-bundle.js"></script>
  <script src="/_local/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/_local/docs/init.js"></script>
</body>
</html>
"""
INIT = """window.ui = SwaggerUIBundle({
  url: "/v0/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
"""


def serve(method: str, resource: str) -> HttpResponse | None:
    """The page or one of its files; None when `resource` is not under `/_local/docs`."""
    if resource != PREFIX and not resource.startswith(PREFIX + "/"):
        return None
    if method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers=[("Allow", "GET, HEAD")])
    name = resource[len(PREFIX) :].lstrip("/")
    if name in ("", "index.html"):
        return _answer(PAGE.encode("utf-8"), "text/html; charset=utf-8")
    if name == "init.js":
        return _answer(INIT.encode("utf-8"), "text/javascript; charset=utf-8")
    asset = (_ASSETS / name).resolve()
    # Only files of the bundle's own directory: `..` and absolute names stay out.
    if asset.parent != _ASSETS or not asset.is_file():
        return HttpResponse(status=404, headers=[("Content-Type", "text/plain")], body=b"")
    kind = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
    return _answer(asset.read_bytes(), kind)


def _answer(body: bytes, content_type: str) -> HttpResponse:
    return HttpResponse(
        status=200,
        headers=[("Content-Type", content_type), ("Cache-Control", "no-cache")],
        body=body,
    )
