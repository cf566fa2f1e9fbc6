"""Cold-start import cost of every function, next to `import boto3` measured in the same run.

Each sample is a fresh interpreter that times only `importlib.import_module(...)` (not the
interpreter's own start-up), with the Lambda environment variables set to dummies and
`sys.path` = [the function's directory, layers/core, ...] as in Lambda (/var/task, /opt/python).
Samples of all modules are interleaved so drift in machine load hits them alike; the
median of N is reported. Target: each function <= 1.5x `import boto3`.

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

# Runs in the child: put the function dir and the layer first on sys.path, then time one import.
_CHILD = """
import importlib, sys, time
module, *paths = sys.argv[1:]
sys.path[:0] = paths
start = time.perf_counter()
importlib.import_module(module)
elapsed = time.perf_counter() - start
sys.stdout.write("\\nIMPORT_SECONDS=%r\\n" % elapsed)
"""

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
}


@dataclass
class Target:
    label: str
    module: str
    paths: list[str]
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
        [sys.executable, "-s", "-c", _CHILD, target.module, *target.paths],
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
        Target(app.parent.name, "app", [str(app.parent), str(LAYER)])
        for app in sorted(FUNCTIONS.glob("*/app.py"))
        if only is None or app.parent.name in only
    ]
    return [Target("import boto3", "boto3", [str(LAYER)]), *found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=7, help="samples per module (7)")
    parser.add_argument("--only", help="comma-separated function groups (default: all)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    only = set(args.only.split(",")) if args.only else None
    targets = _targets(only)
    if len(targets) == 1:
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
        verdict = "" if target is targets[0] else ("ok" if ratio <= TARGET_RATIO else "SLOW")
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
