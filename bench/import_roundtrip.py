"""The whole round trip of issue 12, every user: import `n` users from each source preset
(userfront, csv, auth0, firebase, cognito) with mixed hash formats, log **every** user in
with their original password, export, import into a fresh tenant, log every user in again.

`tests/api/test_import_roundtrip.py` runs the same round trip but logs in a sample: one
log-in costs ~30 ms of argon2id (a first one also verifies the imported format) plus
HTTP, and 2 × 5,000 of them do not fit the suite's time. This script prints how long
each stage takes, on a local runtime of its own with `ExportPasswordHashes=true`:

    python bench/import_roundtrip.py [-n 1000] [--workers 4]

Log-ins run on `--workers` threads (the local runtime serves requests concurrently).
Exits non-zero if any user fails to import or to log in.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core"), str(ROOT / "tests" / "api")]

import roundtripkit as kit  # noqa: E402
from authkit import new_tenant  # noqa: E402

from infra.local.process import RuntimeProcess  # noqa: E402

LOG_IN_TIMEOUT = 180
PROGRESS_EVERY = 50
_T = TypeVar("_T")
PRESETS = ("userfront", "csv", "auth0", "firebase", "cognito")


def _log_in_all(base: str, tenant: str, people: list[kit.Person], workers: int) -> list[str]:
    """Every person's log-in; the emails of those refused (or not answered within
    `LOG_IN_TIMEOUT`, a failure too: on a saturated machine that is what it measures).
    Progress is printed every `PROGRESS_EVERY` log-ins."""
    done = [0]
    lock = threading.Lock()
    started = time.monotonic()

    def one(person: kit.Person) -> str | None:
        with httpx.Client(base_url=base, timeout=LOG_IN_TIMEOUT) as http:
            try:
                ok = kit.log_in(http, tenant, person) == 200
            except httpx.TimeoutException:
                print(f"    log-in of {person.email} timed out", flush=True)
                ok = False
        with lock:
            done[0] += 1
            if done[0] % PROGRESS_EVERY == 0:
                rate = done[0] / (time.monotonic() - started)
                print(f"    {done[0]} log-ins, {rate:.2f}/s", flush=True)
        return None if ok else person.email

    with ThreadPoolExecutor(workers) as pool:
        return [email for email in pool.map(one, people) if email]


class _Stages:
    """The timed stages of one preset's round trip, each printed as it ends (a long run
    shows how far it got)."""

    def __init__(self, preset: str, http: httpx.Client, key: str, args: argparse.Namespace):
        self.preset, self.http, self.key, self.args = preset, http, key, args
        self.times: list[tuple[str, float]] = []

    def timed(
        self, name: str, action: Callable[[], _T], outcome: Callable[[_T], str] | None = None
    ) -> _T:
        """Run one stage; print it with what it did (`outcome`), so a long run shows
        whether anything failed so far."""
        clock = time.monotonic()
        result = action()
        self.times.append((name, time.monotonic() - clock))
        said = outcome(result) if outcome else ""
        stage = f"  {self.preset:10} {name:18} {self.times[-1][1]:8.1f} s  {said}"
        print(stage.rstrip(), flush=True)
        return result

    def import_and_log_in(self, tenant: str, batch: kit.Batch, names: tuple[str, str]) -> int:
        """Import `batch` into `tenant`, then log each of its people in (stages `names`):
        how many failed either."""
        job = self.timed(
            names[0],
            lambda: kit.run_import(self.http, self.key, tenant, batch),
            lambda job: f"created {job['createdCount']}, errors {job['errorCount']}",
        )
        base, workers = str(self.http.base_url), self.args.workers
        refused = self.timed(
            names[1],
            lambda: _log_in_all(base, tenant, batch.people, workers),
            lambda refused: f"refused {len(refused)}",
        )
        return job["errorCount"] + (self.args.n - job["createdCount"]) + len(refused)

    def line(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="users per preset")
    parser.add_argument("--workers", type=int, default=4, help="concurrent log-ins")
    parser.add_argument(
        "--presets",
        default=",".join(PRESETS),
        help="comma-separated presets to run (default: all); a long run can be finished in parts",
    )
    args = parser.parse_args(argv)
    chosen = [name for name in args.presets.split(",") if name]
    if unknown := set(chosen) - set(PRESETS):
        parser.error(f"unknown presets: {', '.join(sorted(unknown))}")
    run = uuid.uuid4().hex[:6]
    failures = 0
    with (
        tempfile.TemporaryDirectory() as data_dir,
        RuntimeProcess(Path(data_dir), parameters={"ExportPasswordHashes": "true"}) as service,
    ):
        assert service.workspace is not None
        key = service.workspace.key("test", "admin")
        base = service.base_url
        with httpx.Client(base_url=base, timeout=120) as http:
            environment = kit.ok(http.get("/_local/environment"))
            started = time.monotonic()
            makers = {
                "userfront": kit.userfront_batch,
                "csv": kit.csv_batch,
                "auth0": kit.auth0_batch,
                "firebase": kit.firebase_batch,
            }
            batches = [makers[name](args.n, run) for name in chosen if name in makers]
            if "cognito" in chosen:
                cognito, pool = kit.cognito_batch(environment, args.n, run)
                batches.append(cognito)
            print(f"{'records and hashes made':32} {time.monotonic() - started:7.1f} s", flush=True)
            for batch in batches:
                tenant = new_tenant(base, key, name=f"From {batch.preset}")
                if batch.preset == "cognito":
                    path = f"/v0/tenants/{tenant}/auth/passthrough"
                    kit.ok(http.put(path, json=pool.passthrough(), headers=kit.bearer(key)))
                stages = _Stages(batch.preset, http, key, args)
                failures += stages.import_and_log_in(tenant, batch, ("import", "log in all"))
                rows = stages.timed("export", functools.partial(kit.export, http, key, tenant))
                fresh = new_tenant(base, key, name=f"Moved {batch.preset}")
                again = kit.Batch(
                    "userfront",
                    batch.people,
                    upload=("jsonl", kit.as_jsonl(rows)),
                    options={"allowWeakHashes": True, **batch.options},
                )
                failures += stages.import_and_log_in(
                    fresh, again, ("re-import", "log in all again")
                )
                not_argon = sum(1 for r in rows if not r["passwordHash"].startswith("$argon2id$"))
                failures += not_argon
                line = stages.line()
                print(
                    f"{batch.preset:10} {args.n} users: {line}; not argon2id: {not_argon}",
                    flush=True,
                )
            print(f"{'total':32} {time.monotonic() - started:7.1f} s, failures: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
