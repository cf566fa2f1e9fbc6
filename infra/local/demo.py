"""The example app of `make dev`: Userfront's own toolkit forms on a test-mode origin.

The pages in `examples/toolkit/` use the web components of `@userfront/toolkit` 1.1.2
(`<signup-form>`, `<login-form>`, `<password-reset-form>`, `<logout-button>`) unmodified,
configured for this runtime's API by `Userfront.init(tenantId, {baseUrl})` before the
components mount (the components take no base URL of their own: given a `tenant-id`
attribute they would re-initialise the client for api.userfront.com).

The app is served on its own port at `http://localhost:<port>`, a different origin from
the API's `http://127.0.0.1:<port>`: every form request is a real cross-origin call with
CORS, as on a customer's site, and the page is at the root of its origin so the tenant's
default paths (`/dashboard`, `/login`, `/reset`) are where its emailed links and
redirects lead. `localhost` over http is always test mode.

Every page is `layout.html` (the head that loads the toolkit, the config and `app.js`, and
the navigation) with the page's own file put in, and that file's `<h1>` as the title: the
set-up is written once. Only the files named in `PAGES` and `ASSETS` are served (no path from the
request ever reaches the file system).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples" / "toolkit"
TOOLKIT_UMD = REPO_ROOT / "node_modules/@userfront/toolkit/dist/web-component.umd.js"
DEMO_FILE = "demo.json"  # in the data dir: where the demo is served (for tests and scripts)

LAYOUT = "layout.html"
# Page path -> its part of the page; the tenant's default paths plus the sign-up page.
PAGES = {
    "/": "index.html",
    "/signup": "signup.html",
    "/login": "login.html",
    "/reset": "reset.html",
    "/dashboard": "dashboard.html",
}
_HEADING = re.compile(r"<h1>(.+?)</h1>")
ASSETS = {
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


class DemoServer:
    """Serves the example pages, the toolkit bundle and a `config.js` naming the API."""

    def __init__(self, api_base: str, tenant_id: str, port: int = 0, host: str = "127.0.0.1"):
        self.api_base = api_base.rstrip("/")
        self.tenant_id = tenant_id
        self._http = ThreadingHTTPServer((host, port), _DemoHandler)
        self._http.daemon_threads = True
        self._http.demo = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        """`localhost`, not the bound address: another origin than the API's 127.0.0.1."""
        return f"http://localhost:{self.port}"

    def config_script(self) -> bytes:
        """What the pages read before they call `Userfront.init` (see app.js)."""
        config = {"tenantId": self.tenant_id, "baseUrl": f"{self.api_base}/v0/"}
        return f"window.PORTCULLIS_DEMO = {json.dumps(config)};\n".encode()

    @staticmethod
    def page(path: str) -> bytes:
        """The page at `path` (a key of `PAGES`): the layout with the page's part in, and
        the part's `<h1>` (already HTML) as the title. Read on every request, like the
        assets, so an edited page shows on reload."""
        layout = Template((EXAMPLES / LAYOUT).read_text(encoding="utf-8"))
        part = (EXAMPLES / PAGES[path]).read_text(encoding="utf-8").rstrip("\n")
        heading = _HEADING.search(part)
        if heading is None:
            raise ValueError(f"{PAGES[path]} has no <h1> (its title)")
        return layout.substitute(title=heading.group(1), main=part).encode()

    def start(self) -> DemoServer:
        if not TOOLKIT_UMD.is_file():
            raise FileNotFoundError(f"{TOOLKIT_UMD} missing: run `npm ci` (make node-deps)")
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="portcullis-demo", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "tenantId": self.tenant_id, "apiBase": self.api_base}


class _DemoHandler(BaseHTTPRequestHandler):
    server_version = "PortcullisDemo/1"

    def do_GET(self) -> None:
        demo: DemoServer = self.server.demo  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        if path != "/":
            path = path.rstrip("/")
        if path in PAGES:
            self._send(200, demo.page(path), "text/html; charset=utf-8")
        elif path in ASSETS:
            name, content_type = ASSETS[path]
            self._send(200, (EXAMPLES / name).read_bytes(), content_type)
        elif path == "/config.js":
            self._send(200, demo.config_script(), "text/javascript; charset=utf-8")
        elif path == "/toolkit.js":
            self._send(200, TOOLKIT_UMD.read_bytes(), "text/javascript; charset=utf-8")
        else:
            self._send(404, b"Not found\n", "text/plain; charset=utf-8")

    do_HEAD = do_GET

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the API's access log is what a developer reads."""
