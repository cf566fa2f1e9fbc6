"""pytest fixtures that run the service locally for HTTP-level tests.

Import them into a conftest (`from infra.local.testing import api, base_url, client,
runtime, workspace`) to use them in any test directory. The service runs in a child
process by default (see `infra.local.process` for why); set
`PORTCULLIS_TEST_RUNTIME=inprocess` to run it inside the test process instead, which is
handy under a debugger but shares `os.environ` and moto with every other test there.
Each pytest-xdist worker gets its own service, on its own port, with its own data.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from infra.local.bootstrap import Workspace
from infra.local.process import RuntimeProcess
from infra.local.runtime import DEFAULT_TEMPLATE, LocalRuntime

RUNTIME_MODE_VARIABLE = "PORTCULLIS_TEST_RUNTIME"
REQUEST_TIMEOUT_SECONDS = 30.0


class RunningService(Protocol):
    """What tests need from either runtime flavour."""

    base_url: str
    data_dir: Path
    workspace: Workspace | None


class _InProcess:
    """`LocalRuntime` seen through the `RunningService` interface."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.base_url = runtime.base_url
        self.data_dir = runtime.data_dir
        self.workspace = runtime.workspace


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The whole service on a free port with fresh data, bootstrapped with a workspace."""
    data_dir = tmp_path_factory.mktemp("portcullis-local")
    # Webhook retries after seconds, not minutes (the child process inherits this).
    os.environ.setdefault("PORTCULLIS_WEBHOOK_RETRY_DELAYS", "1,1,1,1,1,1,1")
    if os.environ.get(RUNTIME_MODE_VARIABLE, "process") == "inprocess":
        with LocalRuntime(
            DEFAULT_TEMPLATE, data_dir, echo=False, access_log=False, save_interval=0
        ) as local:
            yield _InProcess(local)
    else:
        with RuntimeProcess(data_dir, DEFAULT_TEMPLATE) as process:
            yield process


@pytest.fixture(scope="session")
def base_url(runtime: RunningService) -> str:
    return runtime.base_url


@pytest.fixture(scope="session")
def workspace(runtime: RunningService) -> Workspace:
    """The bootstrap tenant: `.tenant_id` and `.keys[mode][type]` (`.key("test", "admin")`)."""
    assert runtime.workspace is not None, "the runtime was started without a workspace"
    return runtime.workspace


def loopback_address(name: str) -> str:
    """A stable 127.x.y.z for `name`: all of 127/8 is loopback on Linux."""
    digest = hashlib.sha256(name.encode()).digest()
    return f"127.{1 + digest[0] % 250}.{digest[1]}.{1 + digest[2] % 250}"


@pytest.fixture
def client(base_url: str, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A fresh client per test, so cookies set by one test never leak into the next.

    Each test connects from its own loopback address, so per-IP rate limits counted by
    one test never spill into another.
    """
    transport = httpx.HTTPTransport(local_address=loopback_address(request.node.nodeid))
    with httpx.Client(
        base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS, transport=transport
    ) as http:
        yield http


class ApiCaller:
    """`api(method, path, key=..., json=...)`: one request, optionally with an API key."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def __call__(
        self,
        method: str,
        path: str,
        key: str | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Extra keyword arguments (`params=`, `content=`, `cookies=`...) go to httpx."""
        merged = dict(headers or {})
        if key is not None:
            merged.setdefault("Authorization", f"Bearer {key}")
        return self.client.request(method, path, json=json, headers=merged, **kwargs)


@pytest.fixture
def api(client: httpx.Client) -> ApiCaller:
    return ApiCaller(client)
