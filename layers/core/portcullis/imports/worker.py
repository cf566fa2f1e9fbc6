"""The import worker (api-server §10.2): what one queue message asks of a processing job.

- `split` (uploads): read the uploaded file as a stream, check and store its rows in
  chunks, record the totals, then queue one `chunk` message per chunk. A repeated split
  (SQS delivers at least once) finds the totals recorded and only queues again.
- `chunk`: apply the chunk's rows, each in its own transaction (`imports.apply`), then
  mark the chunk done, add its counts to the job and store its row errors in one
  transaction that succeeds once: a redelivered message never counts a chunk twice.
  Whoever completes the last chunk moves the job to `completed`.

A message that keeps failing is retried by SQS; on its last receive the job is marked
`failed` (with the counts it reached) before the message goes to the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from portcullis.imports import apply, chunks, jobs
from portcullis.imports.reader import BadFile, records
from portcullis.platform.errors import BadRequest
from portcullis.platform.timefmt import now_iso
from portcullis.store import imports as store
from portcullis.store import tenants as tenant_store
from portcullis.users.rendering import Renderer

log = logging.getLogger(__name__)

# The queue's redrive policy (template.yaml ImportQueue): the last receive marks the job
# failed before the message goes to the dead-letter queue.
MAX_RECEIVES = 5
# Rows of one chunk applied side by side (each waits on DynamoDB round trips).
ROW_THREADS = 8
ROW_ATTEMPTS = 3
ROW_FAILED = "The row could not be applied"


def handle(body: str, receive_count: int = 1) -> str:
    """Process one message; returns what happened (for the log). Raises when the message
    should be received again."""
    message: dict[str, Any] = json.loads(body)
    job = store.get_job(str(message["mode"]), str(message["tenantId"]), str(message["importId"]))
    if job is None:
        return "import gone"
    if job.status != "processing":
        return f"import {job.status}"
    try:
        if message["kind"] == "split":
            return _split(job)
        return _chunk(job, int(message["chunk"]))
    except Exception:
        if receive_count >= MAX_RECEIVES:
            current = store.get_job(job.mode, job.tenantId, job.importId) or job
            store.finish(current, "failed", now_iso(), "the import stopped on an internal error")
        raise


def _split(job: store.ImportItem) -> str:
    if job.chunkCount is None:
        upload = job.upload or {}
        writer = chunks.ChunkWriter(job.importId, jobs.rules_for(job))
        body = store.open_upload(str(upload["key"]))
        try:
            writer.add_all(records(body, job.format))
            writer.flush()
        except BadFile as exc:
            if store.finish(job, "failed", now_iso(), str(exc)):
                store.expire_rows(job.importId)  # what was stored before the bad part
            return "bad file"
        finally:
            body.close()
        stamp = now_iso()
        store.set_stored(
            job, chunks=writer.chunks, total=writer.total, errors=writer.errors, at=stamp
        )
        job = store.get_job(job.mode, job.tenantId, job.importId) or job
        store.delete_upload(str(upload["key"]))
    if not job.chunkCount:
        _finish_if_done(job)
        return "empty file"
    jobs.queue_chunks(job)
    return f"split into {int(job.chunkCount)} chunks"


def _target(job: store.ImportItem) -> apply.Target:
    tenant = tenant_store.get_tenant(job.mode, job.tenantId)
    if tenant is None:
        raise RuntimeError("the import's tenant is gone")
    return apply.Target(
        mode=job.mode,
        tenant=tenant,
        update_existing=bool((job.options or {}).get("updateExisting", True)),
        renderer=Renderer.for_tenant(job.mode, job.tenantId, tenant),
        # Test mode never emails (§10.1): the option is accepted there and ignored.
        send_emails=job.mode == "live" and bool((job.options or {}).get("sendEmails")),
    )


def _apply_entry(
    target: apply.Target, known: apply.Known, position: int, entry: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """What became of one stored row: ("created"|"updated", {}), ("invalid", its error
    from the row check, already counted) or ("failed", the error applying it)."""
    if "error" in entry:
        return "invalid", entry["error"]
    row = entry["row"]
    message = ROW_FAILED
    for attempt in range(ROW_ATTEMPTS):
        try:
            # A retry reads afresh (and takes a new id): the failure may have come
            # after the write.
            return apply.apply(target, row, known if attempt == 0 else None, position), {}
        except BadRequest as problem:
            message = problem.message
            break
        except Exception:
            # A transaction that fails writes nothing, so the row may simply be tried
            # again (a throttled or failed DynamoDB call).
            log.exception("an import row failed", extra={"index": entry.get("index")})
            time.sleep(0.05 * (attempt + 1))
    return "failed", {
        "index": entry["index"],
        "userId": row.get("userId"),
        "email": row.get("email"),
        "message": message,
    }


def _chunk(job: store.ImportItem, number: int) -> str:
    chunk = store.get_chunk(job.importId, number)
    if chunk is None:
        raise RuntimeError(f"chunk {number} of import {job.importId} is missing")
    if chunk.done:
        _finish_if_done(job)
        return "chunk already done"
    target = _target(job)
    entries = chunks.open_rows(chunk)
    # The chunk's matches read and its new userIds taken in a few calls, in this
    # thread (moto's server does not keep an `ADD` atomic across threads).
    positions = [n for n, entry in enumerate(entries) if "error" not in entry]
    known = apply.prefetch(target, [entries[n]["row"] for n in positions])
    place = {n: p for p, n in enumerate(positions)}
    # Rows of a chunk are independent (duplicates within the file were refused when
    # they were stored), and applying one mostly waits on DynamoDB: several at once.
    with ThreadPoolExecutor(max_workers=ROW_THREADS) as pool:
        outcomes = list(
            pool.map(
                lambda n: _apply_entry(target, known, place.get(n, -1), entries[n]),
                range(len(entries)),
            )
        )
    counts = {"processedCount": len(entries), "createdCount": 0, "updatedCount": 0}
    counts["errorCount"] = sum(1 for outcome, _ in outcomes if outcome == "failed")
    for outcome, _ in outcomes:
        if outcome in ("created", "updated"):
            counts[f"{outcome}Count"] += 1
    errors = [error for outcome, error in outcomes if outcome in ("invalid", "failed")]
    if not store.complete_chunk(job, number, counts, errors, now_iso()):
        return "chunk already done"
    _finish_if_done(job)
    return f"chunk {number} done"


def _finish_if_done(job: store.ImportItem) -> None:
    current = store.get_job(job.mode, job.tenantId, job.importId)
    if current is None or current.status != "processing" or current.chunkCount is None:
        return
    if int(current.chunksDone or 0) < int(current.chunkCount):
        return
    if store.finish(current, "completed", now_iso()):
        store.expire_rows(current.importId)
