"""User import throughput: rows per second of one upload import, and the worker's memory.

The worker's whole path against moto (DynamoDB, KMS, S3, SQS in a child process, as
DynamoDB is another machine in AWS): N users with password hashes are written to a JSON
Lines file on disk, uploaded to the imports bucket, the job is created and processed
(`portcullis.imports.jobs`), and this process then plays the import worker: it receives
the queue's messages and hands each to `portcullis.imports.worker.handle`, one after
another, as one Lambda instance would. "Worker time" is the time spent inside `handle`
(the split and every chunk): the Lambda duration the import is billed for. RSS is
sampled every 20 ms while the worker runs; a flat peak across file sizes is the point.

    python bench/imports.py [-n 100000] [--hash bcrypt|pbkdf2|argon2] [--update-docs]

Hashes are not verified on import (that happens at log-in), so one hash per family,
made once by its library, stands for every row's. `--update-docs` rewrites the
"Imports" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import moto_env
import perfdocs

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core")]

BUCKET = "portcullis-bench-imports"


def sample_hash(family: str) -> str:
    """One hash of the family, made by its reference implementation."""
    if family == "bcrypt":
        import bcrypt

        return bcrypt.hashpw(b"bench-password-1", bcrypt.gensalt(10)).decode()
    if family == "pbkdf2":
        salt = os.urandom(16)
        digest = hashlib.pbkdf2_hmac("sha256", b"bench-password-1", salt, 29_000)

        def b64(raw: bytes) -> str:
            return base64.b64encode(raw).decode().rstrip("=").replace("+", ".")

        return f"$pbkdf2-sha256$29000${b64(salt)}${b64(digest)}"
    from argon2 import PasswordHasher

    return PasswordHasher().hash("bench-password-1")


def write_file(path: Path, rows: int, password_hash: str) -> int:
    with path.open("w") as out:
        for n in range(rows):
            record = {
                "email": f"bench{n}@example.com",
                "name": f"Bench User {n}",
                "createdAt": "2020-01-01T00:00:00.000Z",
                "passwordHash": password_hash,
            }
            out.write(json.dumps(record) + "\n")
    return path.stat().st_size


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_kib()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kib())
            time.sleep(0.02)


def run(rows: int, family: str, row_threads: int) -> dict[str, Any]:
    server = moto_env.start_aws("portcullis-bench-imports", moto_env.FUNCTION_ENV, own_process=True)
    moto_pid = int(server.process.pid)
    import boto3

    s3 = boto3.client("s3", region_name=moto_env.REGION)
    s3.create_bucket(Bucket=BUCKET)
    sqs = boto3.client("sqs", region_name=moto_env.REGION)
    queue = sqs.create_queue(QueueName="bench-imports")["QueueUrl"]
    os.environ.update({"IMPORTS_BUCKET": BUCKET, "IMPORT_QUEUE_URL": queue})

    from portcullis.credentials import passwords
    from portcullis.imports import jobs, worker
    from portcullis.platform.errors import BadRequest
    from portcullis.store import tenants as tenant_store
    from portcullis.tenants.workspace import create_workspace

    try:
        password_hash = sample_hash(family)
        passwords.stored_form(password_hash)
    except (ImportError, BadRequest):
        print(f"{family} hashes are not accepted on this branch yet; using argon2id")
        family, password_hash = "argon2", sample_hash("argon2")
    worker.ROW_THREADS = row_threads
    tenant_id = create_workspace("Import bench").tenant_id
    tenant = tenant_store.get_tenant("test", tenant_id)
    assert tenant is not None
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "users.jsonl"
        size = write_file(path, rows, password_hash)
        created = jobs.create(
            "test", tenant, jobs.ImportCreate(upload=jobs.Upload(format="jsonl", size=size))
        )
        s3.upload_file(str(path), BUCKET, f"imports/test/{tenant_id}/{created['importId']}")
    jobs.process("test", tenant, created["importId"])

    baseline = rss_kib()
    sampler = RssSampler()
    sampler.start()
    busy = worker_cpu = moto_cpu = 0.0
    while True:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            # CPU time as well as wall time: on a shared machine the load moves the
            # latter; the CPU time of both processes says what the work costs.
            started, cpu, moto = time.perf_counter(), time.process_time(), cpu_seconds(moto_pid)
            worker.handle(message["Body"])
            busy += time.perf_counter() - started
            worker_cpu += time.process_time() - cpu
            moto_cpu += cpu_seconds(moto_pid) - moto
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        job = jobs.read("test", tenant, created["importId"])
        if job["status"] in ("completed", "failed"):
            break
    sampler.stop.set()
    sampler.join()
    return {
        "rows": rows,
        "family": family,
        "bytes": size,
        "status": job["status"],
        "created": job["createdCount"],
        "errors": job["errorCount"],
        "first_errors": job["errors"][:3],
        "seconds": busy,
        "rows_per_second": rows / busy if busy else 0.0,
        "worker_cpu_seconds": worker_cpu,
        "moto_cpu_seconds": moto_cpu,
        "row_threads": row_threads,
        "baseline_mib": baseline / 1024,
        "peak_mib": sampler.peak / 1024,
    }


def section(result: dict[str, Any]) -> str:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    projected = 100_000 / result["rows_per_second"] / 60 if result["rows_per_second"] else 0
    row = (
        f"| {result['rows']:,} | {result['seconds']:.1f} s | {result['rows_per_second']:.1f}"
        f" | {result['worker_cpu_seconds']:.1f} s | {result['moto_cpu_seconds']:.1f} s"
        f" | {result['baseline_mib']:.0f} MiB | {result['peak_mib']:.0f} MiB |"
    )
    return f"""## Imports

`python bench/imports.py -n {result["rows"]}` ({day}, this machine, moto in a child
process): one upload import of {result["rows"]:,} users with {result["family"]} password
hashes ({result["bytes"] / 1e6:.1f} MB of JSON Lines), the worker's messages handled one
after another in one process.

| rows | worker time | rows/s | worker CPU | moto CPU | RSS before | peak RSS while working |
|---|---|---|---|---|---|---|
{row}

At this rate 100,000 rows take {projected:.0f} minutes of worker time on this machine.

What the figure is and is not:

- **Memory is flat in the file's size**: the split reads the S3 object 64 KiB at a time
  and holds one chunk (≤ 100 rows) at once; the only state that grows is the duplicate
  check, a 64-bit digest per identifier (~100 bytes a row). A 1,000-row run of the same
  benchmark peaks at the same RSS as a 3,000-row one.
- **The time is moto's**: a chunk's rows commit in grouped `TransactWriteItems` of up
  to 100 actions (≈ 33 rows of record, email guard and outbox event), after its batched
  reads and the ONE `ADD` that takes its new userIds (≈ 0.15 DynamoDB calls a row; 1.1
  with a transaction per row, three before the chunk's reads were batched), and moto
  answers each in Python, in its own process. The worker prepares a chunk's rows eight
  at a time and sends each full group while it prepares the next; Lambda runs the
  chunks of one import in parallel, one message per invocation. (The chunk's `ADD`
  runs before its rows, in one thread, so the userIds stay right even on moto's server,
  which does not keep an `ADD` atomic across threads.)
- Password hashes are not verified on import (that happens at the user's first
  log-in, which re-hashes to argon2id), so the hash family does not change the rate;
  rows with plain `password` values are hashed with argon2id as they apply and cost
  ~50 ms of CPU each.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rows", type=int, default=100_000)
    parser.add_argument("--hash", choices=("bcrypt", "pbkdf2", "argon2"), default="bcrypt")
    parser.add_argument(
        "--row-threads",
        type=int,
        default=1,
        help="rows of a chunk applied side by side (the worker uses 8; 1 compares with "
        "the figures in docs/performance.md)",
    )
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()
    result = run(args.rows, args.hash, args.row_threads)
    print(json.dumps(result, indent=2))
    if args.update_docs:
        perfdocs.replace_section("Imports", section(result))


if __name__ == "__main__":
    main()
