"""User imports (api-server §1.10, §10): the job record, its stored rows and its row
errors, plus the uploaded file in S3.

Key layout (docs/storage.md, docs/imports.md):
- job: pk `IMPORTS#{mode}#{tenantId}`, sk `IMPORT#{importId}`. Import ids are
  time-ordered UUIDs (version 7), so one Query of the partition, read backwards, lists a
  tenant's imports newest first; a job is only ever found under its own tenant's key.
- rows: pk `IMPORTROWS#{importId}`, sk `CHUNK#{n:06d}`: up to 100 rows each, KMS-sealed
  (rows carry password hashes and TOTP secrets). `done` is set once, conditionally, in
  the same transaction that adds the chunk's counts to the job, so a redelivered queue
  message never counts a chunk twice. Chunks expire by TTL 7 days after the job ends.
- errors: pk `IMPORTROWS#{importId}`, sk `ERRORS#{n:06d}`: the row errors of chunk n,
  rewritten by that chunk's transaction; read in chunk order, they are the job's errors
  sorted by row index, and the first 1,000 are the `errors` of the Import object. They
  outlive the rows (no secret in them), like the job.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from portcullis.platform import aws
from portcullis.store.base import Item, condition_held, find, owned_item
from portcullis.store.transactions import Update, WriteConflict, commit

JOB_PREFIX = "IMPORT#"
CHUNK_PREFIX = "CHUNK#"
ERRORS_PREFIX = "ERRORS#"
KEEP_ROWS_SECONDS = 7 * 86_400
COUNTERS = ("processedCount", "createdCount", "updatedCount", "errorCount")


def jobs_pk(mode: str, tenant_id: str) -> str:
    return f"IMPORTS#{mode}#{tenant_id}"


def rows_pk(import_id: str) -> str:
    return f"IMPORTROWS#{import_id}"


def chunk_sk(number: int) -> str:
    return f"{CHUNK_PREFIX}{number:06d}"


def errors_sk(number: int) -> str:
    return f"{ERRORS_PREFIX}{number:06d}"


class ImportItem(Item):
    importId = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    status = UnicodeAttribute()
    source = UnicodeAttribute()
    format = UnicodeAttribute()
    options = JSONAttribute(default=dict)
    # {"key": S3 key, "size": declared bytes, "format": ...} for an uploaded file
    upload = JSONAttribute(null=True)
    totalCount = NumberAttribute(default=0)
    processedCount = NumberAttribute(default=0)
    createdCount = NumberAttribute(default=0)
    updatedCount = NumberAttribute(default=0)
    errorCount = NumberAttribute(default=0)
    chunkCount = NumberAttribute(null=True)  # known once the rows are stored
    chunksDone = NumberAttribute(default=0)
    failure = UnicodeAttribute(null=True)  # why a `failed` job stopped
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    startedAt = UnicodeAttribute(null=True)
    completedAt = UnicodeAttribute(null=True)


class ChunkItem(Item):
    """`rows` is the KMS envelope (`tokens.envelope.Sealed` as a dict) of the chunk's
    rows as JSON: `[{"index": n, "row": {...}} | {"index": n, "error": {...}}]`."""

    importId = UnicodeAttribute()
    number = NumberAttribute()
    rows = JSONAttribute()
    done = UnicodeAttribute(null=True)


class ErrorsItem(Item):
    importId = UnicodeAttribute()
    number = NumberAttribute()
    errors = JSONAttribute(default=list)


# ------------------------------------------------------------------------- jobs


def new_job(mode: str, tenant_id: str, import_id: str, **fields: Any) -> ImportItem:
    return owned_item(
        ImportItem,
        f"{JOB_PREFIX}{import_id}",
        "import",
        pk=jobs_pk(mode, tenant_id),
        mode=mode,
        tenant_id=tenant_id,
        importId=import_id,
        **fields,
    )


def get_job(mode: str, tenant_id: str, import_id: str) -> ImportItem | None:
    return find(
        ImportItem, jobs_pk(mode, tenant_id), f"{JOB_PREFIX}{import_id}", consistent_read=True
    )


def list_jobs(mode: str, tenant_id: str) -> Iterator[ImportItem]:
    """Every job of the tenant+mode, newest first (ids are time-ordered)."""
    yield from ImportItem.query(
        jobs_pk(mode, tenant_id),
        ImportItem.sk.startswith(JOB_PREFIX),
        scan_index_forward=False,
    )


def save_job(item: ImportItem) -> None:
    item.save(condition=ImportItem.pk.does_not_exist())


def _set_if(item: ImportItem, actions: list[Any], condition: Any) -> bool:
    """Through a key-only copy: `item` keeps the values the caller read."""
    return condition_held(ImportItem(item.pk, item.sk).update, actions=actions, condition=condition)


def start(item: ImportItem, at: str) -> bool:
    """`created` → `processing`; False when the job was no longer `created`."""
    return _set_if(
        item,
        [
            ImportItem.status.set("processing"),
            ImportItem.startedAt.set(at),
            ImportItem.updatedAt.set(at),
        ],
        ImportItem.status == "created",
    )


def set_stored(item: ImportItem, *, chunks: int, total: int, errors: int, at: str) -> bool:
    """Record that the uploaded file's rows are stored (once: a repeated split finds the
    count set and only queues the chunks again)."""
    return _set_if(
        item,
        [
            ImportItem.chunkCount.set(chunks),
            ImportItem.totalCount.set(total),
            ImportItem.errorCount.add(errors),
            ImportItem.updatedAt.set(at),
        ],
        ImportItem.chunkCount.does_not_exist() & (ImportItem.status == "processing"),
    )


def finish(item: ImportItem, status: str, at: str, failure: str | None = None) -> bool:
    """`processing` → `completed`/`failed`, once."""
    actions: list[Any] = [
        ImportItem.status.set(status),
        ImportItem.completedAt.set(at),
        ImportItem.updatedAt.set(at),
    ]
    if failure:
        actions.append(ImportItem.failure.set(failure))
    return _set_if(item, actions, ImportItem.status == "processing")


def delete_job(item: ImportItem) -> bool:
    """Delete the job record unless it is processing (False then)."""
    return condition_held(
        ImportItem(item.pk, item.sk).delete,
        condition=ImportItem.pk.exists() & (ImportItem.status != "processing"),
    )


# ------------------------------------------------------------------------- rows


def chunk_item(import_id: str, number: int, sealed: dict[str, str]) -> ChunkItem:
    item = ChunkItem(rows_pk(import_id), chunk_sk(number), type="importChunk")
    item.importId = import_id
    item.number = number
    item.rows = sealed
    return item


def errors_item(import_id: str, number: int, errors: list[dict[str, Any]]) -> ErrorsItem:
    item = ErrorsItem(rows_pk(import_id), errors_sk(number), type="importErrors")
    item.importId = import_id
    item.number = number
    item.errors = errors
    return item


def write_items(items: list[Item]) -> None:
    """Chunks and error lists written before the job is started (plain batch writes:
    nothing reads them until the job record says they are all there)."""
    if not items:
        return
    with type(items[0]).batch_write() as batch:
        for item in items:
            batch.save(item)


def get_chunk(import_id: str, number: int) -> ChunkItem | None:
    return find(ChunkItem, rows_pk(import_id), chunk_sk(number), consistent_read=True)


def complete_chunk(
    job: ImportItem, number: int, counts: dict[str, int], errors: list[dict[str, Any]], at: str
) -> bool:
    """Mark chunk `number` done, add its counts to the job and store its errors, all at
    once; False when the chunk was already done (a redelivered message)."""
    chunk = ChunkItem(rows_pk(job.importId), chunk_sk(number))
    actions: list[Any] = [getattr(ImportItem, name).add(counts.get(name, 0)) for name in COUNTERS]
    actions += [ImportItem.chunksDone.add(1), ImportItem.updatedAt.set(at)]
    saves: list[Item] = [errors_item(job.importId, number, errors)] if errors else []
    try:
        commit(
            saves,
            [
                Update(chunk, [ChunkItem.done.set(at)], ChunkItem.done.does_not_exist()),
                Update(ImportItem(job.pk, job.sk), actions, ImportItem.pk.exists()),
            ],
        )
    except WriteConflict:
        return False
    return True


def read_errors(import_id: str, limit: int) -> list[dict[str, Any]]:
    """The first `limit` row errors, in row order."""
    found: list[dict[str, Any]] = []
    for item in ErrorsItem.query(
        rows_pk(import_id), ErrorsItem.sk.startswith(ERRORS_PREFIX), page_size=20
    ):
        found.extend(item.errors or [])
        if len(found) >= limit:
            break
    return found[:limit]


def _row_keys(import_id: str, prefix: str | None = None) -> Iterator[tuple[str, str]]:
    condition = ChunkItem.sk.startswith(prefix) if prefix else None
    for item in ChunkItem.query(
        rows_pk(import_id), condition, attributes_to_get=["pk", "sk"], page_size=500
    ):
        yield item.pk, item.sk


def expire_rows(import_id: str) -> None:
    """Stored rows leave by TTL 7 days after the job ended; the summary stays."""
    until = int(time.time()) + KEEP_ROWS_SECONDS
    for pk, sk in _row_keys(import_id, CHUNK_PREFIX):
        ChunkItem(pk, sk).update(actions=[ChunkItem.ttl.set(until)])


def delete_rows(import_id: str) -> None:
    """Every stored row and error list of an import (deleting the import)."""
    with ChunkItem.batch_write() as batch:
        for pk, sk in _row_keys(import_id):
            batch.delete(ChunkItem(pk, sk))


# ------------------------------------------------------------------------- upload (S3)


def bucket() -> str:
    import os

    return os.environ.get("IMPORTS_BUCKET", "")


def queue_url() -> str:
    import os

    return os.environ.get("IMPORT_QUEUE_URL", "")


def upload_url(key: str, size: int, content_type: str, seconds: int) -> str:
    """A pre-signed PUT of exactly `size` bytes (S3 refuses another Content-Length)."""
    url: str = aws.client("s3").generate_presigned_url(
        "put_object",
        Params={
            "Bucket": bucket(),
            "Key": key,
            "ContentLength": size,
            "ContentType": content_type,
        },
        ExpiresIn=seconds,
    )
    return url


def upload_size(key: str) -> int | None:
    """Bytes of the uploaded object, None when nothing was uploaded."""
    client = aws.client("s3")
    try:
        head = client.head_object(Bucket=bucket(), Key=key)
    except client.exceptions.ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return int(head["ContentLength"])


def open_upload(key: str) -> Any:
    """The uploaded object as a stream (botocore StreamingBody): read in pieces, never
    whole."""
    return aws.client("s3").get_object(Bucket=bucket(), Key=key)["Body"]


def delete_upload(key: str) -> None:
    aws.client("s3").delete_object(Bucket=bucket(), Key=key)


def send_messages(bodies: list[str]) -> None:
    """Queue worker messages, ten per SendMessageBatch call."""
    client = aws.client("sqs")
    for start_at in range(0, len(bodies), 10):
        batch = bodies[start_at : start_at + 10]
        answer = client.send_message_batch(
            QueueUrl=queue_url(),
            Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(batch)],
        )
        if answer.get("Failed"):
            raise RuntimeError(f"queueing import messages failed: {answer['Failed'][:1]}")
