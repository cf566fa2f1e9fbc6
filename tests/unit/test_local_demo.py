"""The example app's server (infra/local/demo.py): the pages, the toolkit bundle and a
config naming the API, and nothing else from the disk, whatever path is asked for."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from infra.local.demo import DemoServer


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    server = DemoServer("http://127.0.0.1:3999/", "tenant42").start()
    yield server
    server.stop()


def get(demo: DemoServer, path: str) -> httpx.Response:
    # The bound address: the `localhost` of `demo.url` may resolve to ::1 first.
    return httpx.get(f"http://127.0.0.1:{demo.port}{path}", timeout=10)


def test_pages_use_the_toolkit_components(demo: DemoServer) -> None:
    assert demo.url == f"http://localhost:{demo.port}"
    for path, component in [
        ("/signup", "<signup-form>"),
        ("/login", "<login-form>"),
        ("/reset?uuid=u&token=t", "<password-reset-form>"),
        ("/dashboard", "<logout-button>"),
    ]:
        response = get(demo, path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert component in response.text
        assert "tenant-id" not in response.text  # it would re-init Userfront for its cloud


def test_every_page_has_the_shared_head_and_its_own_title(demo: DemoServer) -> None:
    """Each page is the one layout: the toolkit, then the config, then `app.js` (which calls
    `Userfront.init`), all in the head, before the page's own part."""
    for path, title in [("/", "Portcullis + Userfront toolkit"), ("/login", "Log in")]:
        text = get(demo, path).text
        assert text.startswith("<!-- ") and "\n<!doctype html>\n" in text
        assert f"<title>{title} · Portcullis demo</title>" in text
        assert f"<h1>{title}</h1>" in text
        scripts = [
            text.index(f'<script src="/{name}.js">') for name in ("toolkit", "config", "app")
        ]
        assert scripts == sorted(scripts)
        assert scripts[-1] < text.index("</head>") < text.index("<main>")
        assert "$" not in text


def test_config_names_the_tenant_and_the_api(demo: DemoServer) -> None:
    response = get(demo, "/config.js")
    assert response.status_code == 200
    prefix = "window.PORTCULLIS_DEMO = "
    assert response.text.startswith(prefix)
    config = json.loads(response.text[len(prefix) :].rstrip().rstrip(";"))
    assert config == {"tenantId": "tenant42", "baseUrl": "http://127.0.0.1:3999/v0/"}


def test_the_toolkit_bundle_is_served(demo: DemoServer) -> None:
    response = get(demo, "/toolkit.js")
    assert response.status_code == 200
    assert 'customElements.define("signup-form"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/signup.html",
        "/examples/toolkit/app.js",
        "/node_modules/@userfront/toolkit/package.json",
        "//etc/passwd",
        "/favicon.ico",
    ],
)
def test_nothing_else_is_served(demo: DemoServer, path: str) -> None:
    assert get(demo, path).status_code == 404
