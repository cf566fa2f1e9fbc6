"""End-to-end harness, Python side: run a scenario of `run.mjs` and read its outcome.

Every run is a fresh Node process with a fresh jsdom page (a page load). State carries
from one run to the next only through the cookies passed in, as a browser keeps them
across page loads. See `browser.mjs` for how the page is wired (CORS, navigation).

The service fixtures are the API tests' ones (`infra.local.testing`): `runtime` (one
local service per xdist worker), `base_url`, `workspace`, `client`, `api`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.local.testing import api, base_url, client, loopback_address, runtime, workspace

__all__ = ["api", "base_url", "browser", "client", "runtime", "workspace"]

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("run.mjs")
NODE = shutil.which("node") or "node"
NODE_TIMEOUT_SECONDS = 30

# The page's origin: not the API's http://127.0.0.1:<port>, so every call is cross-origin
# and CORS is enforced. Nothing listens there; the page itself is never fetched.
PAGE_ORIGIN = "http://localhost:5173"


@dataclass(frozen=True)
class PageRun:
    """What one scenario left behind: its value or error, and the page's state after it."""

    scenario: str
    error: str | None
    result: Any
    cookies: dict[str, str]
    user: dict[str, Any]
    navigations: list[dict[str, str]]
    requests: list[dict[str, Any]]
    warnings: list[str]
    jsdom_errors: list[str]

    def __str__(self) -> str:
        """A short account for assertion messages: the error and what went over the wire."""
        wire = "; ".join(f"{r['method']} {r['url']}" for r in self.requests) or "nothing"
        return (
            f"{self.scenario}: error={self.error!r}, sent: {wire}, "
            f"cookies={sorted(self.cookies)}, warnings={self.warnings}"
        )

    @property
    def navigated_to(self) -> list[str]:
        return [navigation["url"] for navigation in self.navigations]

    def requested(self, method: str, path: str) -> list[dict[str, Any]]:
        """Requests sent with `method` to the API path `path` (e.g. "/v0/auth/refresh")."""
        return [
            r
            for r in self.requests
            if r["method"] == method and r["url"].split("?")[0].endswith(path)
        ]


@dataclass(frozen=True)
class Browser:
    """Runs scenarios of `run.mjs` against one API for one tenant."""

    api_base: str  # e.g. http://127.0.0.1:3000 (without /v0)
    tenant_id: str
    source_address: str | None = None  # the page's connections leave from this address

    def page_url(self, path: str) -> str:
        """An absolute URL on the page's origin, e.g. where a navigation should lead."""
        return f"{PAGE_ORIGIN}{path}"

    @property
    def page_origin(self) -> str:
        return PAGE_ORIGIN

    @property
    def token_cookies(self) -> tuple[str, str, str]:
        """The names of the access, ID and refresh cookies (api-client §1.2)."""
        return (f"access.{self.tenant_id}", f"id.{self.tenant_id}", f"refresh.{self.tenant_id}")

    def run(
        self,
        scenario: str,
        *,
        page: str = "/login",
        cookies: dict[str, str] | None = None,
        api_base: str | None = None,
        **args: Any,
    ) -> PageRun:
        payload = {
            "apiUrl": f"{api_base or self.api_base}/v0/",
            "pageUrl": self.page_url(page),
            "tenantId": self.tenant_id,
            "cookies": cookies or {},
            "sourceAddress": self.source_address,
            **args,
        }
        completed = subprocess.run(
            [NODE, str(RUNNER), scenario, json.dumps(payload)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0 or not completed.stdout.strip():
            raise AssertionError(
                f"run.mjs {scenario} exited {completed.returncode}:\n"
                f"{completed.stdout}\n{completed.stderr}"
            )
        out = json.loads(completed.stdout)
        return PageRun(
            scenario=out["scenario"],
            error=out["error"],
            result=out["result"],
            cookies=out["cookies"],
            user=out["user"],
            navigations=out["navigations"],
            requests=out["requests"],
            warnings=out["warnings"],
            jsdom_errors=out["jsdomErrors"],
        )


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """`make test` installs them (`npm ci`); without them nothing here can run."""
    installed = ROOT / "node_modules" / "@userfront" / "core" / "package.json"
    if not installed.is_file():
        pytest.fail("node_modules missing: run `npm ci` (or `make test`, which does)")
    return installed.parent


@pytest.fixture
def browser(
    node_modules: Path, base_url: str, workspace: Any, request: pytest.FixtureRequest
) -> Browser:
    """A browser for the workspace tenant; each test connects from its own loopback
    address (like the `client` fixture), so per-IP rate limits never span tests."""
    return Browser(
        api_base=base_url.rstrip("/"),
        tenant_id=workspace.tenant_id,
        source_address=loopback_address(request.node.nodeid),
    )
