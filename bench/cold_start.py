"""Cold-start import cost of every function, next to `import boto3` measured in the same run.

Each sample is a fresh interpreter that times only the import (not the interpreter's own
start-up), with the Lambda environment variables set to dummies and `sys.path` = [the
function's directory, layers/core, ...] as in Lambda (/var/task, /opt/python). Samples of
all modules are interleaved so drift in machine load hits them alike; the median of N is
reported. Target: each function <= 1.5x `import boto3`.

The "stack floor" row is a reference, not a function: what any HTTP function pays before
its own code - pynamodb (so botocore), pydantic and Powertools' REST resolver with
validation, through `portcullis.platform.http` - so a function's ratio can be read against it.

    python bench/cold_start.py [-n 7] [--only tenants,keys] [--strict]

`--strict` exits 1 when a function misses the target (never used inside tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core"
FUNCTIONS = ROOT / "functions"
TARGET_RATIO = 1.5

# Runs in the child: put the function dir and the layer first on sys.path, then time the
# statement (compiled beforehand, so only the imports it runs are timed).
_CHILD = """
import sys, time
statement, *paths = sys.argv[1:]
sys.path[:0] = paths
code = compile(statement, "<bench>", "exec")
start = time.perf_counter()
exec(code, {"__name__": "__bench__"})
elapsed = time.perf_counter() - start
sys.stdout.write("\\nIMPORT_SECONDS=%r\\n" % elapsed)
"""
# No Portcullis domain code: the libraries every HTTP function stands on.
FLOOR = (
    "import pynamodb.attributes, pynamodb.models, pynamodb.transactions\n"
    "from portcullis.platform.http import create_app\n"
    "create_app()\n"
)

DUMMY_ENV = {
    "TABLE_NAME": "portcullis-bench",
    "KMS_KEY_ID": "alias/portcullis-bench",
    "EVENT_BUS_NAME": "portcullis-bench",
    "SENDER_EMAIL": "no-reply@example.com",
    "STAGE": "bench",
    "ALLOWED_ORIGINS": "*",
    "PUBLIC_BASE_URL": "https://bench.example.com/prod",
    "POWERTOOLS_SERVICE_NAME": "portcullis",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # dummy: nothing is called
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",  # set by Lambda; nothing listens here
}


@dataclass
class Target:
    label: str
    statement: str
    paths: list[str]
    reference: bool = False  # a row to read the others against, not judged
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(DUMMY_ENV)
    return env


def _sample(target: Target, env: dict[str, str]) -> float:
    proc = subprocess.run(
        [sys.executable, "-s", "-c", _CHILD, target.statement, *target.paths],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("IMPORT_SECONDS="):
            return float(line.split("=", 1)[1])
    detail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    raise RuntimeError(f"importing {target.label} failed:\n  " + "\n  ".join(detail))


def _targets(only: set[str] | None) -> list[Target]:
    found = [
        Target(app.parent.name, "import app", [str(app.parent), str(LAYER)])
        for app in sorted(FUNCTIONS.glob("*/app.py"))
        if only is None or app.parent.name in only
    ]
    return [
        Target("import boto3", "import boto3", [str(LAYER)], reference=True),
        Target("stack floor", FLOOR, [str(LAYER)], reference=True),
        *found,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=7, help="samples per module (7)")
    parser.add_argument("--only", help="comma-separated function groups (default: all)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    only = set(args.only.split(",")) if args.only else None
    targets = _targets(only)
    if not any(not t.reference for t in targets):
        print("no functions/<group>/app.py found", file=sys.stderr)
        return 1
    env = _environment()

    for target in targets:  # warm-up: writes the .pyc files, as the built layer ships them
        _sample(target, env)
    for _ in range(args.runs):
        for target in targets:
            target.samples.append(_sample(target, env))

    baseline = targets[0].median
    width = max(len(t.label) for t in targets)
    print(f"python {sys.version.split()[0]}, median of {args.runs} fresh interpreters")
    print(f"{'module':<{width}}  {'median ms':>9}  {'min ms':>7}  {'x boto3':>7}  target")
    missed = []
    for target in targets:
        ratio = target.median / baseline
        verdict = "" if target.reference else ("ok" if ratio <= TARGET_RATIO else "SLOW")
        if verdict == "SLOW":
            missed.append(target.label)
        print(
            f"{target.label:<{width}}  {target.median * 1000:9.1f}  "
            f"{min(target.samples) * 1000:7.1f}  {ratio:7.2f}  {verdict}"
        )
    print(f"target: <= {TARGET_RATIO}x import boto3")
    if missed:
        print(f"over target: {', '.join(missed)}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
