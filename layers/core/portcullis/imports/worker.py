"""The import worker (api-server §10.2): what one queue message asks of a processing job.

- `split` (uploads): read the uploaded file as a stream, check and store its rows in
  chunks, record the totals, then queue one `chunk` message per chunk. A repeated split
  (SQS delivers at least once) finds the totals recorded and only queues again.
- `chunk`: apply the chunk's rows (`imports.apply`), several rows in one transaction
  (up to DynamoDB's 100 actions): one request for a group of rows instead of one a row.
  A group that does not commit (a row's email taken, a concurrent change) wrote
  nothing; its rows are then applied one by one, each in its own transaction, so a bad
  row never fails its neighbours and gets the error it would have got alone. Then mark
  the chunk done, add its counts to the job and store its row errors in one
  transaction that succeeds once: a redelivered message never counts a chunk twice.
  Whoever completes the last chunk moves the job to `completed`.

A message that keeps failing is retried by SQS; on its last receive the job is marked
`failed` (with the counts it reached) before the message goes to the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from portcullis.imports import apply, chunks, jobs
from portcullis.imports.reader import BadFile, records
from portcullis.platform.errors import BadRequest
from portcullis.platform.timefmt import now_iso
from portcullis.store import imports as store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.users.rendering import Renderer

log = logging.getLogger(__name__)

# The queue's redrive policy (template.yaml ImportQueue): the last receive marks the job
# failed before the message goes to the dead-letter queue.
MAX_RECEIVES = 5
# Rows of one chunk applied side by side (each waits on DynamoDB round trips).
ROW_THREADS = 8
ROW_ATTEMPTS = 3
ROW_FAILED = "The row could not be applied"
# One grouped transaction at most: DynamoDB's 100 actions, and its 4 MB less room for
# what `Pending.size` does not count (guards, keys, conditions, the request's framing).
GROUP_ACTIONS = 100
GROUP_BYTES = 3_500_000

# What became of a stored row: ("created"|"updated", {}), ("invalid", its error from the
# row check, already counted) or ("failed", the error applying it).
Result = tuple[str, dict[str, Any]]


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


def _row_error(entry: dict[str, Any], message: str) -> Result:
    row = entry["row"]
    return "failed", {
        "index": entry["index"],
        "userId": row.get("userId"),
        "email": row.get("email"),
        "message": message,
    }


def _apply_entry(
    target: apply.Target, known: apply.Known | None, position: int, entry: dict[str, Any]
) -> Result:
    """One stored row applied in its own transaction(s). `known` None: read afresh."""
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
    return _row_error(entry, message)


def _prepare_entry(
    target: apply.Target, known: apply.Known, position: int, entry: dict[str, Any]
) -> apply.Prepared | Result | None:
    """A valid row's write, ready to group; its error when it has one before writing
    (as `_apply_entry` would report it); None when preparing it failed otherwise (it is
    then applied on its own, with `_apply_entry`'s retries)."""
    try:
        return apply.prepare(target, entry["row"], known, position)
    except BadRequest as problem:
        return _row_error(entry, problem.message)
    except Exception:
        log.exception("an import row could not be prepared", extra={"index": entry["index"]})
        return None


Group = list[tuple[int, apply.Prepared]]  # rows of a chunk (by place) to commit together


class _Packer:
    """Prepared rows, in order, packed into transactions within DynamoDB's limits."""

    def __init__(self) -> None:
        self.group: Group = []
        self.actions = self.size = 0

    def add(self, n: int, row: apply.Prepared) -> Group | None:
        """Take a row; the group it does not fit in any more, now full."""
        more, weight = row.write.actions(), row.write.size()
        full = None
        if self.group and (self.actions + more > GROUP_ACTIONS or self.size + weight > GROUP_BYTES):
            full, self.group, self.actions, self.size = self.group, [], 0, 0
        self.group.append((n, row))
        self.actions, self.size = self.actions + more, self.size + weight
        return full


def _commit_group(group: Group) -> user_store.Cancelled | None:
    try:
        apply.commit_together([row for _, row in group])
    except user_store.Cancelled as cancelled:
        log.info("a group of import rows is applied one by one", extra={"reason": str(cancelled)})
        return cancelled
    return None


def _apply_entries(
    target: apply.Target, known: apply.Known, entries: list[dict[str, Any]]
) -> list[Result]:
    """Every stored row of a chunk: the valid ones prepared (side by side: a row may
    wait on a read or KMS) and committed in groups, each group sent as soon as it is
    full, so moto or DynamoDB works on one while the next is prepared; then the rows of
    a group that did not commit, one by one (afresh when the failed call may have
    written: as `_apply_entry`'s retries)."""
    results: dict[int, Result] = {
        n: ("invalid", e["error"]) for n, e in enumerate(entries) if "error" in e
    }
    valid = [n for n in range(len(entries)) if n not in results]
    place = {n: p for p, n in enumerate(valid)}
    alone: list[tuple[int, apply.Known | None]] = []
    sent: list[tuple[Group, Future[user_store.Cancelled | None]]] = []
    packer = _Packer()
    # Two pools: a full group's commit must not queue behind the rows still to prepare.
    with ThreadPoolExecutor(ROW_THREADS) as rows, ThreadPoolExecutor(ROW_THREADS) as commits:
        prepared = rows.map(lambda n: _prepare_entry(target, known, place[n], entries[n]), valid)
        for n, outcome in zip(valid, prepared, strict=True):
            if isinstance(outcome, apply.Prepared):
                full = packer.add(n, outcome)
                if full:
                    sent.append((full, commits.submit(_commit_group, full)))
            elif outcome is None:
                alone.append((n, known))
            else:
                results[n] = outcome
        if packer.group:
            sent.append((packer.group, commits.submit(_commit_group, packer.group)))
        for group, commit in sent:
            cancelled = commit.result()
            if cancelled is None:
                results.update((n, (row.outcome, {})) for n, row in group)
            else:
                alone.extend((n, known if cancelled.written_nothing else None) for n, _ in group)
        applied = rows.map(
            lambda job: _apply_entry(target, job[1], place[job[0]], entries[job[0]]), alone
        )
        results.update(zip((n for n, _ in alone), applied, strict=True))
    return [results[n] for n in range(len(entries))]


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
    known = apply.prefetch(target, [entry["row"] for entry in entries if "error" not in entry])
    # Rows of a chunk are independent (duplicates within the file were refused when
    # they were stored): they are prepared and committed several at once.
    outcomes = _apply_entries(target, known, entries)
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
