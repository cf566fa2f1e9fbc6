"""Userfront's toolkit forms in Debian's Chromium, driven by Playwright for Python.

The browser is the system's `chromium` (apt), never one downloaded by `playwright install`:
a missing browser FAILS these tests, it never skips them. One browser per module, one
fresh context (cookies, storage) per test. The pages are the example app the runtime
serves (`infra/local/demo.py`, started by `python -m infra.local` like `make dev`), at
`http://localhost:<port>`, calling the API at `http://127.0.0.1:<port>` cross-origin.

Screenshots go to `$PORTCULLIS_SCREENSHOTS` or else a pytest temporary directory.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from infra.local.demo import DEMO_FILE
from infra.local.persistence import read_json
from infra.local.testing import api, base_url, client, runtime, workspace

__all__ = ["api", "base_url", "client", "runtime", "workspace"]

CHROMIUM_NAMES = ("chromium", "chromium-browser")
# Each action and expectation waits at most this long (CI's 2 cores are shared, and a
# password check is a real argon2id hash): `expect` has its own default (5 s), set here.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Chromium missing: `apt-get install -y chromium` (.ci/run does it)")


@pytest.fixture(scope="session")
def demo_url(runtime: Any) -> str:
    """The example app's origin; the runtime writes `demo.json` just after it is ready."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        demo = read_json(Path(runtime.data_dir) / DEMO_FILE)
        if demo:
            return str(demo["url"])
        time.sleep(0.1)
    pytest.fail("the local runtime serves no example app (no demo.json)")


@pytest.fixture(scope="module")
def chromium(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Browser, demo_url: str) -> Iterator[BrowserContext]:
    context = chromium.new_context(base_url=demo_url, viewport={"width": 900, "height": 760})
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.page_errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("PORTCULLIS_SCREENSHOTS")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
