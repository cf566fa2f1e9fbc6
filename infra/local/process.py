"""The local runtime in a child process, for test suites.

Running it in-process would share `os.environ` (AWS_ENDPOINT_URL) and moto's global
backends with the test process, so a unit test using `moto.mock_aws` in the same pytest
worker would reset the runtime's data, and its boto3 calls would reach the runtime's moto.
A child process keeps the API tests honest too: they can only use HTTP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from infra.local.bootstrap import Workspace, load_workspace
from infra.local.demo import DEMO_FILE
from infra.local.persistence import LOCAL_FILE, read_json
from infra.local.runtime import DEFAULT_TEMPLATE, REPO_ROOT, Started


class RuntimeProcess(Started):
    """`python -m infra.local` on a free port; `base_url` and `workspace` once started."""

    def __init__(
        self,
        data_dir: Path,
        template_path: Path = DEFAULT_TEMPLATE,
        *,
        bootstrap: bool = True,
        parameters: Mapping[str, str] | None = None,
        startup_timeout: float = 120.0,
        save_interval: float = 0.0,
    ) -> None:
        """`save_interval` 0: a test runtime saves its tables only when it stops (a
        periodic save scans the whole table and holds up every request meanwhile)."""
        self.data_dir = Path(data_dir).resolve()
        self.template_path = Path(template_path).resolve()
        self.bootstrap = bootstrap
        self.parameters = dict(parameters or {})
        self.startup_timeout = startup_timeout
        self.save_interval = save_interval
        self.log_path = self.data_dir / "runtime.log"
        self.base_url = ""
        self.workspace: Workspace | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    def start(self) -> RuntimeProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / LOCAL_FILE).unlink(missing_ok=True)
        (self.data_dir / DEMO_FILE).unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "infra.local",
            "--port",
            "0",
            "--data-dir",
            str(self.data_dir),
            "--template",
            str(self.template_path),
            "--save-interval",
            str(self.save_interval),
            "--demo-port",  # the example app (infra/local/demo.py) on a free port too
            "0",
        ]
        if not self.bootstrap:
            command.append("--no-bootstrap")
        for name, value in self.parameters.items():
            command += ["--parameter", f"{name}={value}"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"local runtime exited with {self._process.returncode}:\n{self.log_tail()}"
                )
            local = read_json(self.data_dir / LOCAL_FILE)
            if local and self._healthy(local["baseUrl"]):
                self.base_url = local["baseUrl"]
                self.workspace = load_workspace(self.data_dir)
                return
            time.sleep(0.1)
        raise TimeoutError(
            f"local runtime not ready after {self.startup_timeout}s:\n{self.log_tail()}"
        )

    @staticmethod
    def _healthy(base_url: str) -> bool:
        try:
            with urllib.request.urlopen(f"{base_url}/_local/health", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.is_file():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (the runtime saves and exits 0), then SIGKILL if it does not."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.returncode = process.returncode
