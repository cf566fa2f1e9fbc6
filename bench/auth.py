"""Authentication hot paths in-process, next to the cost of their own crypto in the same run.

Each flow is a real `lambda_handler` call (the function that `template.yaml` routes the
request to, with the API Gateway REST proxy event the local runtime would build) against
DynamoDB and KMS served by a moto server in a child process (as DynamoDB is another
machine in AWS: while a call waits, the function's other threads really run):

- sign-up        POST /v0/tenants/{t}/auth/create   {email, password, name}
- password login POST /v0/tenants/{t}/auth/basic    {emailOrUsername, password}
- refresh        GET  /v0/auth/refresh   Bearer <refresh JWT> (the rotated one each time)
- read self      GET  /v0/self           Bearer <access JWT>

Per flow: the median wall time of N calls, the DynamoDB calls each made (counted and timed
by wrapping botocore's `BaseClient._make_api_call`, which pynamodb also goes through; the
time is the wall time during which at least one call was in flight) and the time left
once DynamoDB is taken out ("rest"). Rest is compared with the flow's
crypto: the argon2id hash/verify inside the same calls (timed by wrapping argon2's
`PasswordHasher`) for sign-up and login, a bare RS256 sign/verify (`portcullis.tokens.signing`)
for refresh and /self; bare argon2id figures of the same run are printed too. Targets:
password login <= 1.1x its argon2id verify plus its DynamoDB calls, and at most 3
DynamoDB calls; refresh <= 2; read self <= 1.

    python bench/auth.py [-n 21] [--update-docs] [--strict]

`--update-docs` rewrites the "Authentication" section of docs/performance.md; `--strict`
exits 1 when a target is missed. Never run as a timed assertion inside the tests.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import moto_env
import perfdocs

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core")]

TEMPLATE = ROOT / "template.yaml"
DOCS = perfdocs.DOCS
REGION = "us-east-1"
TABLE = "portcullis-bench"
PASSWORD = "bench-password-0123456789"  # a throwaway account in a throwaway table
LOGIN_HASH_FACTOR = 1.1


def start_aws() -> Any:
    """moto with the environment a Lambda function of the stack would see."""
    return moto_env.start_aws(TABLE, moto_env.FUNCTION_ENV, own_process=True)


class Recorder:
    """Times the calls of patched methods made while one request runs (`reset` before it).

    `seconds` is wall time during which at least one recorded call was in flight (the
    union of their intervals), so calls that overlap each other are not counted twice
    and work done on another thread meanwhile is not mistaken for the calls' own time.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._in_flight = 0
        self._busy_since = 0.0

    def reset(self) -> None:
        with self._lock:
            self.calls = []
            self.seconds = 0.0

    def _enter(self) -> None:
        with self._lock:
            if self._in_flight == 0:
                self._busy_since = time.perf_counter()
            self._in_flight += 1

    def _exit(self, label: str) -> None:
        with self._lock:
            self._in_flight -= 1
            self.calls.append(label)
            if self._in_flight == 0:
                self.seconds += time.perf_counter() - self._busy_since

    def patch(
        self,
        owner: Any,
        name: str,
        label: Callable[..., str] | None = None,
        when: Callable[..., bool] | None = None,
    ) -> None:
        """Wrap `owner.name`; `when(*args)` selects the calls to record, `label` names them."""
        original = getattr(owner, name)
        recorder = self

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if when is not None and not when(*args):
                return original(*args, **kwargs)
            recorder._enter()
            try:
                return original(*args, **kwargs)
            finally:
                recorder._exit(label(*args) if label else name)

        setattr(owner, name, timed)


def install_recorders() -> tuple[Recorder, Recorder]:
    """DynamoDB calls (botocore's `_make_api_call`, which pynamodb also goes through) and
    argon2 hash/verify calls, both process-wide."""
    from argon2 import PasswordHasher
    from botocore.client import BaseClient

    dynamo = Recorder()
    dynamo.patch(
        BaseClient,
        "_make_api_call",
        label=lambda client, operation, params: operation,
        when=lambda client, operation, params: client.meta.service_model.service_name == "dynamodb",
    )
    argon2 = Recorder()
    argon2.patch(PasswordHasher, "hash")
    argon2.patch(PasswordHasher, "verify")
    return dynamo, argon2


@dataclass
class Sample:
    seconds: float
    dynamo_seconds: float
    operations: list[str]
    argon2_seconds: float


@dataclass
class Flow:
    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(s.seconds for s in self.samples) * 1000

    @property
    def median_without_dynamo_ms(self) -> float:
        return statistics.median(s.seconds - s.dynamo_seconds for s in self.samples) * 1000

    @property
    def median_dynamo_ms(self) -> float:
        return statistics.median(s.dynamo_seconds for s in self.samples) * 1000

    @property
    def median_argon2_ms(self) -> float:
        return statistics.median(s.argon2_seconds for s in self.samples) * 1000

    @property
    def dynamo_calls(self) -> int:
        """Calls of the median sample count (they can vary, e.g. a rehash on first login)."""
        return int(statistics.median_low(len(s.operations) for s in self.samples))

    @property
    def operations(self) -> str:
        typical = next(s for s in self.samples if len(s.operations) == self.dynamo_calls)
        return ", ".join(typical.operations) or "none"


class Api:
    """Routes requests like API Gateway: template.yaml decides which function handles them."""

    def __init__(self, dynamo: Recorder, argon2: Recorder) -> None:
        from infra.local.lambdas import load_functions
        from infra.local.routing import Router
        from infra.local.template import SamTemplate

        template = SamTemplate.load(TEMPLATE, region=REGION)
        self.router = Router(template.routes)
        self.specs = template.functions
        self.functions: dict[str, Any] = {}
        self.dynamo = dynamo
        self.argon2 = argon2
        self._load = load_functions

    def _function(self, function_id: str) -> Any:
        if function_id not in self.functions:
            spec = self.specs[function_id]
            loaded = self._load([spec], {function_id: function_id}, REGION)[function_id]
            if loaded.handler is None:
                raise RuntimeError(f"{function_id} failed to import") from loaded.load_error
            self.functions[function_id] = loaded
        return self.functions[function_id]

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        token: str | None = None,
        source_ip: str = "198.51.100.7",
    ) -> tuple[dict[str, Any], Sample]:
        """One handler call, timed; returns the JSON body (a non-200 answer is an error)."""
        from infra.local.routing import RouteMatch

        match = self.router.match(method, path)
        if not isinstance(match, RouteMatch):
            raise RuntimeError(f"{method} {path} is not routed in template.yaml ({match.status})")
        function = self._function(match.route.function_id)
        event = moto_env.page_event(method, path, body, token, source_ip, match)
        self.dynamo.reset()
        self.argon2.reset()
        start = time.perf_counter()
        result = function.invoke(event)
        elapsed = time.perf_counter() - start
        sample = Sample(elapsed, self.dynamo.seconds, self.dynamo.calls, self.argon2.seconds)
        if result.get("statusCode") != 200:
            raise RuntimeError(
                f"{method} {path} -> {result.get('statusCode')}: {result.get('body')}"
            )
        return json.loads(result["body"]), sample


def seconds(action: Callable[..., object], *args: Any) -> float:
    start = time.perf_counter()
    action(*args)
    return time.perf_counter() - start


@dataclass
class Results:
    runs: int
    flows: dict[str, Flow]
    baselines: dict[str, list[float]]  # BASELINE_LABELS key -> seconds, one per round

    def baseline_ms(self, name: str) -> float:
        return statistics.median(self.baselines[name]) * 1000

    def bare(self) -> str:
        return ", ".join(
            f"{label} {self.baseline_ms(name):.2f} ms" for name, label in BASELINE_LABELS.items()
        )


BASELINE_LABELS = {
    "hash": "argon2id hash",
    "verify": "argon2id verify",
    "sign": "RS256 sign",
    "verify_jwt": "RS256 verify",
}
FLOW_LABELS = {
    "signup": "sign-up",
    "login": "password login",
    "refresh": "refresh",
    "self": "GET /v0/self",
}


def run(runs: int) -> Results:
    server = start_aws()
    try:
        dynamo, argon2 = install_recorders()
        from portcullis.credentials import passwords
        from portcullis.tenancy import settings
        from portcullis.tenants.workspace import create_workspace
        from portcullis.tokens import signing as tokens

        tenant = create_workspace("Bench workspace").tenant_id
        # The flows repeat from one address and one session; lift the limits far enough
        # that they never answer 429 (the counters are still written, and counted).
        roomy = {"limit": 1_000_000, "windowSeconds": 60}
        settings.update(
            "test",
            tenant,
            {"rateLimits": {name: roomy for name in settings.RateLimits.model_fields}},
        )
        api = Api(dynamo, argon2)
        flows = {key: Flow(label) for key, label in FLOW_LABELS.items()}

        def sign_up(i: int, record: bool) -> str:
            email = f"bench-{i}-{uuid.uuid4().hex[:8]}@example.com"
            body = {"email": email, "password": PASSWORD, "name": "Bench User"}
            _, sample = api.request("POST", f"/v0/tenants/{tenant}/auth/create", body)
            if record:
                flows["signup"].samples.append(sample)
            return email

        # Warm-up (not counted): imports, the tenant's signing key and settings caches.
        login_body = {"emailOrUsername": sign_up(0, record=False), "password": PASSWORD}
        session, _ = api.request("POST", f"/v0/tenants/{tenant}/auth/basic", login_body)
        access = session["tokens"]["access"]["value"]
        api.request("GET", "/v0/self", token=access)
        refresh_token = session["tokens"]["refresh"]["value"]
        refreshed, _ = api.request("GET", "/v0/auth/refresh", token=refresh_token)
        refresh_token = refreshed["tokens"].get("refresh", {}).get("value") or refresh_token

        stored = passwords.hash_password(PASSWORD)
        now = int(time.time())
        claims = {"mode": "test", "tenantId": tenant, "userId": 1, "iat": now, "exp": now + 3600}
        baselines: dict[str, list[float]] = {name: [] for name in BASELINE_LABELS}
        # Flows and bare crypto interleave, so a load spike on the machine hits both alike.
        for i in range(1, runs + 1):
            sign_up(i, record=True)
            data, sample = api.request("POST", f"/v0/tenants/{tenant}/auth/basic", login_body)
            flows["login"].samples.append(sample)
            access = data["tokens"]["access"]["value"]
            _, sample = api.request("GET", "/v0/self", token=access)
            flows["self"].samples.append(sample)
            data, sample = api.request("GET", "/v0/auth/refresh", token=refresh_token)
            flows["refresh"].samples.append(sample)
            refresh_token = data["tokens"].get("refresh", {}).get("value") or refresh_token

            baselines["hash"].append(seconds(passwords.hash_password, PASSWORD))
            baselines["verify"].append(seconds(passwords.verify, stored, PASSWORD))
            baselines["sign"].append(seconds(tokens.sign, tenant, "test", claims))
            baselines["verify_jwt"].append(seconds(tokens.verify, access))

        return Results(runs=runs, flows=flows, baselines=baselines)
    finally:
        server.stop()


@dataclass
class Row:
    flow: Flow
    crypto: str  # what "rest" is compared with
    crypto_ms: float
    target: str
    met: bool | None

    @property
    def ratio(self) -> float:
        return self.flow.median_without_dynamo_ms / self.crypto_ms


def rows(results: Results) -> list[Row]:
    """Sign-up and login against the argon2 time inside the same calls (the bare figure in
    the same run is the same within noise, but noise on a shared machine is large);
    refresh and /self against a bare RS256 sign / verify."""
    f = results.flows
    login = f["login"]
    login_ratio = login.median_without_dynamo_ms / login.median_argon2_ms
    return [
        Row(f["signup"], "argon2id hash, in the call", f["signup"].median_argon2_ms, "—", None),
        Row(
            login,
            "argon2id verify, in the call",
            login.median_argon2_ms,
            f"≤ {LOGIN_HASH_FACTOR}× verify + DynamoDB; ≤ 3 calls",
            login_ratio <= LOGIN_HASH_FACTOR and login.dynamo_calls <= 3,
        ),
        Row(
            f["refresh"],
            "one RS256 sign, bare",
            results.baseline_ms("sign"),
            "≤ 2 calls",
            f["refresh"].dynamo_calls <= 2,
        ),
        Row(
            f["self"],
            "one RS256 verify, bare",
            results.baseline_ms("verify_jwt"),
            "≤ 1 call",
            f["self"].dynamo_calls <= 1,
        ),
    ]


def table(results: Results) -> str:
    lines = [
        "| flow | median ms | DynamoDB calls | DynamoDB ms | rest ms | crypto ms "
        "| rest ÷ crypto | target | met |",
        "|---|---:|---|---:|---:|---:|---:|---|---|",
    ]
    for row in rows(results):
        flow = row.flow
        met = "—" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(
            f"| {flow.label} | {flow.median_ms:.1f} | {flow.dynamo_calls} ({flow.operations}) "
            f"| {flow.median_dynamo_ms:.1f} | {flow.median_without_dynamo_ms:.1f} "
            f"| {row.crypto_ms:.2f} ({row.crypto}) | {row.ratio:.2f}× | {row.target} | {met} |"
        )
    lines += ["", f"Bare, in the same run: {results.bare()}."]
    return "\n".join(lines)


SECTION = """## Authentication

The hot paths of signing in and staying signed in, each a real `lambda_handler` call
(routed by `template.yaml`, with the API Gateway proxy event the local runtime builds)
against DynamoDB and KMS in a moto server running in a child process. The work a flow
cannot avoid is its crypto and its DynamoDB round trips, so each flow is reported with
the DynamoDB time taken out ("rest") and next to its crypto. Targets:

- password login: at most **{factor}× its argon2id verify** plus its DynamoDB calls, and
  at most **3** DynamoDB calls;
- refresh: at most **2** DynamoDB calls; `GET /v0/self`: at most **1**.

### How it is measured

`python bench/auth.py [-n N] [--update-docs] [--strict]`: one untimed warm-up of every
flow (imports, the tenant's signing key, caches), then N rounds of sign-up → password
login → `GET /v0/self` → refresh (always with the latest rotated refresh token) → one
bare argon2id hash, argon2id verify, RS256 sign and RS256 verify. Every column is a
median over the N rounds; "rest ÷ crypto" divides two medians.

- DynamoDB calls are counted and timed by wrapping botocore's
  `BaseClient._make_api_call` (pynamodb goes through it too). "DynamoDB ms" is the wall
  time during which at least one call was in flight, so work the function does on
  another thread meanwhile (a sign-in signs its tokens while its session transaction
  is on the wire, `portcullis/platform/background.py`) is not charged to it twice: hidden
  behind the wait, it does not lengthen the request. moto runs in its own process, as
  DynamoDB is another machine in AWS; its milliseconds (a local HTTP round trip plus
  moto's own Python) say nothing about AWS latency; the call counts do.
- "crypto" for sign-up and login is the argon2id hash / verify **inside the same calls**
  (argon2's `PasswordHasher` is wrapped the same way), so rest ÷ crypto is what the
  function adds to its password hashing, and machine load moves both alike. The bare
  argon2id figures of the same run are printed under the table: they should match.
  Refresh (which signs three tokens and verifies one) and `/self` (verifies one) are
  shown against one bare RS256 sign / verify, for scale only.
- The tenant's rate limits are raised for the run so that repeating a flow from one
  address never answers 429 (the counters are still updated, and counted). The
  exception is `requestsPerIp`, which `GET /v0/self` counts in memory and adds to
  DynamoDB every k-th request of an address (k = limit ÷ 20): with the raised limit no
  addition falls inside a run; with the default (300 per minute, k = 15) one request in
  15 makes a second call, +0.07 calls amortised, which a median does not show
  ([auth.md](auth.md#rate-limits)).

### Results

Only figures of one run compare with each other; the host's load average is recorded
because a loaded machine inflates every figure.

{stamp}, N = {runs}:

{table}
"""


def machine() -> str:
    """Date, commit and machine: what a reader needs to judge the figures."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit or 'unknown'} (+ working "
        f"tree), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )


def section(results: Results, stamp: str) -> str:
    return SECTION.format(
        factor=LOGIN_HASH_FACTOR, stamp=stamp, runs=results.runs, table=table(results)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=21, help="timed rounds (21)")
    parser.add_argument("--update-docs", action="store_true", help="rewrite docs/performance.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    stamp = machine()  # before the run, which adds load of its own
    try:
        results = run(args.runs)
    except RuntimeError as error:  # a flow answered non-200, or a route is missing
        print(f"bench/auth.py: {error}", file=sys.stderr)
        return 2
    print(f"{stamp}, N = {args.runs}\n")
    print(table(results))
    if args.update_docs:
        perfdocs.replace_section("Authentication", section(results, stamp))
        print(f"\nwrote the Authentication section of {DOCS.relative_to(ROOT)}")
    missed = [row.flow.label for row in rows(results) if row.met is False]
    if missed:
        print(f"\ntarget missed: {', '.join(missed)}", file=sys.stderr)
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
