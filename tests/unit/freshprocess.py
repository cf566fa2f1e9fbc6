"""Running a statement in a fresh interpreter, for tests about what importing does (a
module already imported by the test process would prove nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python <args>` in a new interpreter (this one's executable) at the repo root, its
    output captured as text, at most 120 s; the caller judges the exit status. Also used
    by bench/cold_start.py."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_json(code: str, env: dict[str, str], *paths: Path) -> Any:
    """Run `code` with `paths` and the core layer first on `sys.path`, and return the
    JSON its last line of output prints (the process must exit 0)."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in (*paths, LAYER)]!r}\n"
    proc = run_python(["-c", prelude + code], env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
