"""Cold-start cost of every function, next to `import boto3` measured in the same run.

Two tables, each from fresh interpreters whose samples are interleaved (so drift in
machine load hits every row alike), median of N:

1. **Import**: each sample times only the import of a function's `app` module (not the
   interpreter's own start-up), with the Lambda environment variables set to dummies and
   `sys.path` = [the function's directory, layers/core, ...] as in Lambda (/var/task,
   /opt/python). Target: each function <= 2.0x `import boto3`. The "stack floor" row is a
   reference, not a function: what any HTTP function pays before its own code - pynamodb
   (so botocore), pydantic and Powertools' REST resolver with validation, through
   `portcullis.platform.http` - so a function's ratio can be read against it.
2. **Cold first request**: a fresh interpreter imports the function that `template.yaml`
   routes the request to and serves its first real request (the API Gateway proxy event
   the local runtime builds) against DynamoDB and KMS in a moto server running in another
   process, timed from the start of the import to the response: `GET /mode`, a password
   log-in, a refresh (with the refresh token of the log-in just before it). Reference
   row: `import boto3`, creating a DynamoDB client and one `GetItem` in a fresh
   interpreter against the same moto server. No target; the ratio is for reading.

    python bench/cold_start.py [-n 7] [--only tenants,keys] [--imports-only] [--strict]
                               [--cpu-time]

`--cpu-time` times the imports in the child's CPU time (`time.process_time`) instead of
wall time: an import is CPU-bound and single-threaded, so on a quiet machine the two
agree, and on a loaded one CPU time leaves out the waits for a core.

`--strict` exits 1 when a function misses the import target (never used inside tests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "core"
FUNCTIONS = ROOT / "functions"
TEMPLATE = ROOT / "template.yaml"
TARGET_RATIO = 2.0
sys.path.insert(0, str(ROOT / "tests" / "unit"))  # fresh interpreters as the tests run them

from freshprocess import run_python  # noqa: E402

# Runs in the child: put the function dir and the layer first on sys.path, then time the
# statement (compiled beforehand, so only the imports it runs are timed) with the clock
# named first: `perf_counter` (wall time) or `process_time` (this process's CPU time).
_CHILD = """
import sys, time
clock_name, statement, *paths = sys.argv[1:]
clock = getattr(time, clock_name)
sys.path[:0] = paths
code = compile(statement, "<bench>", "exec")
start = clock()
exec(code, {"__name__": "__bench__"})
elapsed = clock() - start
sys.stdout.write("\\nIMPORT_SECONDS=%r\\n" % elapsed)
"""
# No Portcullis domain code: the libraries every HTTP function stands on.
FLOOR = (
    "import pynamodb.attributes, pynamodb.models, pynamodb.transactions\n"
    "from portcullis.platform.http import create_app\n"
    "create_app()\n"
)

# Runs in the child of a cold first request: the job (JSON: an API Gateway event for a
# function, or the table and key of the reference GetItem) is parsed before the clock
# starts; the clock stops when the handler has returned its response.
_REQUEST_CHILD = """
import json, sys, time, uuid
job = json.loads(sys.argv[1])
sys.path[:0] = job["paths"]

class Context:
    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = str(uuid.uuid4())
    def get_remaining_time_in_millis(self):
        return 30000

if job["kind"] == "reference":
    start = time.perf_counter()
    import boto3
    imported = time.perf_counter()
    client = boto3.client("dynamodb")
    client.get_item(TableName=job["table"], Key=job["key"])
    done = time.perf_counter()
    status, body = 200, None
else:
    start = time.perf_counter()
    import app
    imported = time.perf_counter()
    result = app.lambda_handler(job["event"], Context())
    done = time.perf_counter()
    status, body = result["statusCode"], result.get("body")
sys.stdout.write("\\nREQUEST_RESULT=" + json.dumps({
    "total": done - start, "import": imported - start, "status": status, "body": body,
}) + "\\n")
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
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",  # set by Lambda; nothing listens here
}
# What the request children take over from this process once moto runs (moto_env).
MOTO_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "TABLE_NAME",
    "KMS_KEY_ID",
    "EVENT_BUS_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "PUBLIC_BASE_URL",
)
TABLE = "portcullis-bench-cold"
SOURCE_IP = "198.51.100.7"


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


def _sample(target: Target, env: dict[str, str], clock: str) -> float:
    proc = run_python(["-s", "-c", _CHILD, clock, target.statement, *target.paths], env)
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


def measure_imports(targets: list[Target], runs: int, clock: str = "perf_counter") -> None:
    env = _environment()
    for target in targets:  # warm-up: writes the .pyc files, as the built layer ships them
        _sample(target, env, clock)
    for _ in range(runs):
        for target in targets:
            target.samples.append(_sample(target, env, clock))


def import_table(
    targets: list[Target], runs: int, clock: str = "perf_counter"
) -> tuple[str, list[str]]:
    """The import table (markdown) and the functions over the target."""
    baseline = targets[0].median
    timed = " (CPU time)" if clock == "process_time" else ""
    lines = [
        f"Import{timed}, median of {runs} fresh interpreters:",
        "",
        f"| module | median ms | min ms | × boto3 | target ≤ {TARGET_RATIO}× |",
        "|---|---:|---:|---:|---|",
    ]
    missed = []
    for target in targets:
        ratio = target.median / baseline
        if target.reference:
            verdict = "(reference)" if target is not targets[0] else ""
        else:
            verdict = "met" if ratio <= TARGET_RATIO else "**missed**"
            if ratio > TARGET_RATIO:
                missed.append(target.label)
        lines.append(
            f"| {target.label} | {target.median * 1000:.1f} | "
            f"{min(target.samples) * 1000:.1f} | {ratio:.2f} | {verdict} |"
        )
    return "\n".join(lines), missed


# ------------------------------------------------------------------ cold first request


@dataclass
class RequestSample:
    total: float
    imported: float


@dataclass
class RequestRow:
    label: str
    what: str  # the request, for the table
    kind: str  # "reference", "mode", "login" or "refresh"
    samples: list[RequestSample] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(s, attribute) for s in self.samples)


class ColdRequests:
    """moto in another process with a workspace, and the jobs the request children run."""

    def __init__(self) -> None:
        sys.path[:0] = [str(ROOT), str(LAYER)]
        import moto_env

        self.server = moto_env.start_aws(TABLE, moto_env.FUNCTION_ENV, own_process=True)
        from infra.local.routing import Router
        from infra.local.template import SamTemplate
        from portcullis.store import tenants as tenant_store
        from portcullis.tenancy import settings
        from portcullis.tenants.workspace import create_workspace

        workspace = create_workspace("Cold start bench")
        self.tenant = workspace.tenant_id
        # Every sample logs in the same seed user from one address: lift the limits far
        # enough that no sample answers 429 (the counters are still written).
        roomy = {"limit": 1_000_000, "windowSeconds": 60}
        limits = {name: roomy for name in settings.RateLimits.model_fields}
        settings.update("test", self.tenant, {"rateLimits": limits})
        self.login = {"emailOrUsername": "member@example.com", "password": workspace.seed_password}
        item = tenant_store.get_tenant("test", self.tenant)
        assert item is not None
        self.reference_key = {"pk": {"S": item.pk}, "sk": {"S": item.sk}}

        template = SamTemplate.load(TEMPLATE, region=moto_env.REGION)
        self.router = Router(template.routes)
        self.functions = template.functions
        self.env = _environment()
        self.env.update({name: os.environ[name] for name in MOTO_ENV if name in os.environ})
        self.refresh_token: str | None = None

    def stop(self) -> None:
        self.server.stop()

    def rows(self) -> list[RequestRow]:
        return [
            RequestRow("reference", "import boto3 + DynamoDB client + one GetItem", "reference"),
            RequestRow(
                self._function("GET", self._mode_path()),
                "GET /v0/tenants/{tenantId}/mode",
                "mode",
            ),
            RequestRow(
                self._function("POST", self._login_path()),
                "POST /v0/tenants/{tenantId}/auth/basic (password log-in)",
                "login",
            ),
            RequestRow(
                self._function("GET", "/v0/auth/refresh"),
                "GET /v0/auth/refresh (the log-in's refresh token)",
                "refresh",
            ),
        ]

    def _mode_path(self) -> str:
        return f"/v0/tenants/{self.tenant}/mode"

    def _login_path(self) -> str:
        return f"/v0/tenants/{self.tenant}/auth/basic"

    def _match(self, method: str, path: str) -> Any:
        from infra.local.routing import RouteMatch

        match = self.router.match(method, path)
        if not isinstance(match, RouteMatch):
            raise RuntimeError(f"{method} {path} is not routed in template.yaml")
        return match

    def _function(self, method: str, path: str) -> str:
        """The function group (its directory name) that serves the request."""
        spec = self.functions[self._match(method, path).route.function_id]
        return Path(spec.code_dir).name

    def _event(
        self, method: str, path: str, body: dict[str, Any] | None, token: str | None
    ) -> tuple[dict[str, Any], str]:
        """The proxy event the local runtime builds, and the function's directory."""
        import moto_env

        match = self._match(method, path)
        event = moto_env.page_event(method, path, body, token, SOURCE_IP, match)
        return event, str(self.functions[match.route.function_id].code_dir)

    def _job(self, kind: str) -> dict[str, Any]:
        if kind == "reference":
            return {"kind": kind, "paths": [], "table": TABLE, "key": self.reference_key}
        if kind == "mode":
            event, code_dir = self._event("GET", self._mode_path(), None, None)
        elif kind == "login":
            event, code_dir = self._event("POST", self._login_path(), self.login, None)
        else:
            if self.refresh_token is None:
                raise RuntimeError("a refresh needs a log-in before it")
            event, code_dir = self._event("GET", "/v0/auth/refresh", None, self.refresh_token)
            self.refresh_token = None  # rotated: each token is used once
        return {"kind": kind, "paths": [code_dir, str(LAYER)], "event": event}

    def sample(self, row: RequestRow) -> RequestSample:
        job = json.dumps(self._job(row.kind))
        proc = run_python(["-s", "-c", _REQUEST_CHILD, job], self.env)
        result = None
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith("REQUEST_RESULT="):
                result = json.loads(line.split("=", 1)[1])
                break
        if result is None or result["status"] != 200:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            answer = f" -> {result['status']}: {result['body']}" if result else ""
            raise RuntimeError(f"{row.what}{answer} failed:\n  " + "\n  ".join(detail))
        if row.kind == "login":
            self.refresh_token = json.loads(result["body"])["tokens"]["refresh"]["value"]
        return RequestSample(total=result["total"], imported=result["import"])


def measure_requests(runs: int) -> list[RequestRow]:
    cold = ColdRequests()
    try:
        rows = cold.rows()
        for row in rows:  # warm-up: .pyc files; the log-in also hands the refresh a token
            cold.sample(row)
        for _ in range(runs):
            for row in rows:
                row.samples.append(cold.sample(row))
        return rows
    finally:
        cold.stop()


def request_table(rows: list[RequestRow], runs: int) -> str:
    reference = rows[0].median("total")
    lines = [
        f"Cold first request, median of {runs} fresh interpreters (moto in another process):",
        "",
        "| function | request | median ms | min ms | of which import ms | × reference |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.label} | {row.what} | {row.median('total') * 1000:.1f} | "
            f"{min(s.total for s in row.samples) * 1000:.1f} | "
            f"{row.median('imported') * 1000:.1f} | {row.median('total') / reference:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=7, help="samples per row (7)")
    parser.add_argument("--only", help="comma-separated function groups (default: all)")
    parser.add_argument(
        "--imports-only", action="store_true", help="skip the cold first request table"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time imports in CPU time (process_time): steadier on a loaded machine",
    )
    args = parser.parse_args(argv)

    only = set(args.only.split(",")) if args.only else None
    targets = _targets(only)
    if not any(not t.reference for t in targets):
        print("no functions/<group>/app.py found", file=sys.stderr)
        return 1

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    clock = "process_time" if args.cpu_time else "perf_counter"
    measure_imports(targets, args.runs, clock)
    text, missed = import_table(targets, args.runs, clock)
    print(text)
    print(f"\ntarget: every function <= {TARGET_RATIO}x import boto3")
    if missed:
        print(f"over target: {', '.join(missed)}")
    if not args.imports_only:
        try:
            rows = measure_requests(args.runs)
        except RuntimeError as error:
            print(f"bench/cold_start.py: {error}", file=sys.stderr)
            return 2
        print()
        print(request_table(rows, args.runs))
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
