"""Import jobs (api-server §10, §1.10; concepts §7.4): create, process, list, read and
delete, and the Import object they answer with.

A job holds its rows from the start (inline rows, checked and stored at create) or
from an upload (a pre-signed S3 PUT; the worker reads, checks and stores the file when
the job is processed). Processing is asynchronous: `process` only moves the job to
`processing` and queues work for the import worker (`imports.worker`).
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portcullis.access import roles as role_service
from portcullis.credentials import passwords
from portcullis.imports import chunks, rows
from portcullis.imports.reader import CONTENT_TYPES
from portcullis.platform.errors import BadRequest, NotFound, PortcullisError
from portcullis.platform.models import STRICT as _STRICT
from portcullis.platform.timefmt import iso, now, now_iso
from portcullis.search.envelope import list_envelope
from portcullis.store import imports as store
from portcullis.store import tenants as tenant_store

IMPORT_NOT_FOUND = "Import not found"
ALREADY_PROCESSED = "Import has already been processed"
IS_PROCESSING = "Import is processing"
NOT_UPLOADED = 'The file has not been uploaded: PUT it to "upload.url" first'
STATUSES = ("created", "processing", "completed", "failed")
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
UPLOAD_URL_SECONDS = 3600
DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class Conflict(PortcullisError, status=409, message="Conflict", error_type="conflict_error"):
    """Deleting a processing import (issue 12 and concepts §7.4 win over §10.5's 400)."""


class ImportOptions(BaseModel):
    model_config = _STRICT
    updateExisting: bool = True
    sendEmails: bool = False
    process: bool = False
    allowWeakHashes: bool = False
    skipPasswordPolicy: bool = False
    # Checked and saved by `passwords.save_firebase_parameters` (its messages name the
    # fields): `{base64_signer_key, base64_salt_separator, rounds, mem_cost}`.
    firebaseHashConfig: dict[str, Any] | None = None


class Upload(BaseModel):
    model_config = _STRICT
    format: Literal["jsonl", "json", "csv"]
    size: Annotated[int, Field(ge=1, le=MAX_UPLOAD_BYTES)]


class ImportCreate(BaseModel):
    """§10.1: inline `users` (1-5,000) or an `upload`, never both."""

    # The document says so too (`oneOf`), as `create` enforces it.
    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "oneOf": [
                {"required": ["users"], "properties": {"users": {"type": "array"}}},
                {"required": ["upload"], "properties": {"upload": {"type": "object"}}},
            ]
        },
    )
    source: Literal["userfront", "csv", "cognito", "auth0", "firebase"] = "userfront"
    users: Annotated[list[Any], Field(min_length=1, max_length=rows.MAX_INLINE_ROWS)] | None = None
    upload: Upload | None = None
    options: ImportOptions | None = None


def new_import_id() -> str:
    """A version-7 UUID (RFC 9562): time-ordered, so the newest job sorts last."""
    value = (int(time.time() * 1000) & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= secrets.randbits(12) << 64
    value |= 0b10 << 62
    value |= secrets.randbits(62)
    return str(uuid.UUID(int=value))


def upload_key(job: store.ImportItem) -> str:
    return f"imports/{job.mode}/{job.tenantId}/{job.importId}"


def render(job: store.ImportItem, *, errors: bool = True) -> dict[str, Any]:
    """The Import object (§1.10), plus `source` and `format` (docs/imports.md)."""
    options = job.options or {}
    body: dict[str, Any] = {
        "importId": job.importId,
        "tenantId": job.tenantId,
        "mode": job.mode,
        "status": job.status,
        "source": job.source,
        "format": job.format,
        "totalCount": int(job.totalCount or 0),
        "processedCount": int(job.processedCount or 0),
        "createdCount": int(job.createdCount or 0),
        "updatedCount": int(job.updatedCount or 0),
        "errorCount": int(job.errorCount or 0),
    }
    if errors:
        body["errors"] = store.read_errors(job.importId, rows.MAX_ERRORS_KEPT)
    body["options"] = {
        "sendEmails": bool(options.get("sendEmails", False)),
        "updateExisting": bool(options.get("updateExisting", True)),
        "allowWeakHashes": bool(options.get("allowWeakHashes", False)),
        "skipPasswordPolicy": bool(options.get("skipPasswordPolicy", False)),
    }
    body.update(
        createdAt=job.createdAt,
        updatedAt=job.updatedAt,
        startedAt=job.startedAt,
        completedAt=job.completedAt,
    )
    if job.failure:
        body["failure"] = job.failure
    return body


def rules_for(job: store.ImportItem) -> rows.RowRules:
    options = job.options or {}
    return rows.RowRules(
        source=job.source,
        mode=job.mode,
        tenant_id=job.tenantId,
        roles=frozenset(role_service.names(job.mode, job.tenantId)),
        allow_weak_hashes=bool(options.get("allowWeakHashes")),
        skip_password_policy=bool(options.get("skipPasswordPolicy")),
    )


def create(mode: str, tenant: tenant_store.TenantItem, body: ImportCreate) -> dict[str, Any]:
    """§10.1. Inline rows are checked and stored now; an upload answers with its URL."""
    if (body.users is None) == (body.upload is None):
        both = '"upload" is not allowed with "users"'
        raise BadRequest('"users" is required' if body.users is None else both)
    options = body.options or ImportOptions()
    stamp = now_iso()
    import_id = new_import_id()
    kept = options.model_dump(exclude={"firebaseHashConfig", "process"})
    if options.firebaseHashConfig is not None:
        # The tenant's parameters of Firebase's scrypt (concepts §7.4), KMS-sealed by the
        # hashes module before any row's firebase-scrypt hash is read with them.
        passwords.save_firebase_parameters(tenant.tenantId, mode, options.firebaseHashConfig)
    job = store.new_job(
        mode,
        tenant.tenantId,
        import_id,
        status="created",
        source=body.source,
        format="json" if body.upload is None else body.upload.format,
        options=kept,
        createdAt=stamp,
        updatedAt=stamp,
    )
    answer_upload: dict[str, Any] | None = None
    if body.users is not None:
        writer = chunks.ChunkWriter(import_id, rules_for(job))
        writer.add_all(body.users)
        writer.flush()
        job.totalCount = writer.total
        job.errorCount = writer.errors
        job.chunkCount = writer.chunks
    else:
        assert body.upload is not None
        job.upload = {"key": upload_key(job), "size": body.upload.size}
        content_type = CONTENT_TYPES[body.upload.format]
        answer_upload = {
            "url": store.upload_url(
                upload_key(job), body.upload.size, content_type, UPLOAD_URL_SECONDS
            ),
            "method": "PUT",
            "headers": {"Content-Type": content_type, "Content-Length": str(body.upload.size)},
            "expiresAt": iso(now() + timedelta(seconds=UPLOAD_URL_SECONDS)),
        }
    store.save_job(job)
    if options.process and body.users is not None:
        job = _start(job)
    answer = render(job)
    if answer_upload is not None:
        answer["upload"] = answer_upload
    return answer


def _get(mode: str, tenant_id: str, import_id: str) -> store.ImportItem:
    try:
        canonical = str(uuid.UUID(import_id))
    except ValueError:
        raise NotFound(IMPORT_NOT_FOUND) from None
    job = store.get_job(mode, tenant_id, canonical)
    if job is None:
        raise NotFound(IMPORT_NOT_FOUND)
    return job


def message(job: store.ImportItem, kind: str, chunk: int | None = None) -> str:
    body: dict[str, Any] = {
        "kind": kind,
        "mode": job.mode,
        "tenantId": job.tenantId,
        "importId": job.importId,
    }
    if chunk is not None:
        body["chunk"] = chunk
    return json.dumps(body, separators=(",", ":"))


def queue_chunks(job: store.ImportItem) -> None:
    store.send_messages([message(job, "chunk", n) for n in range(int(job.chunkCount or 0))])


def _start(job: store.ImportItem) -> store.ImportItem:
    """`created` → `processing` and queue its work; a job another request started
    meanwhile is answered as it is now."""
    if not store.start(job, now_iso()):
        return _get(job.mode, job.tenantId, job.importId)
    started = _get(job.mode, job.tenantId, job.importId)
    try:
        if started.upload:
            store.send_messages([message(started, "split")])
        else:
            queue_chunks(started)
    except Exception:
        store.finish(started, "failed", now_iso(), "the import could not be queued")
        raise
    if started.chunkCount == 0:
        store.finish(started, "completed", now_iso())
    return _get(job.mode, job.tenantId, job.importId)


def process(mode: str, tenant: tenant_store.TenantItem, import_id: str) -> dict[str, Any]:
    """§10.2: idempotent while processing; 400 once finished."""
    job = _get(mode, tenant.tenantId, import_id)
    if job.status == "processing":
        return render(job)
    if job.status != "created":
        raise BadRequest(ALREADY_PROCESSED)
    if job.upload:
        size = store.upload_size(str(job.upload["key"]))
        if size is None:
            raise BadRequest(NOT_UPLOADED)
        if size > MAX_UPLOAD_BYTES:
            raise BadRequest(f"The file must be at most {MAX_UPLOAD_BYTES} bytes")
    return render(_start(job))


def read(mode: str, tenant: tenant_store.TenantItem, import_id: str) -> dict[str, Any]:
    return render(_get(mode, tenant.tenantId, import_id))


def list_imports(
    mode: str, tenant: tenant_store.TenantItem, *, status: str | None, page: int, limit: int
) -> dict[str, Any]:
    """§10.3: newest first, without `errors`. A tenant's jobs are few (each is one
    item), so the page is cut from one Query of its partition."""
    if status is not None and status not in STATUSES:
        raise BadRequest(f'"status" must be one of [{", ".join(STATUSES)}]')
    matching = [
        job for job in store.list_jobs(mode, tenant.tenantId) if status in (None, job.status)
    ]
    start_at = (page - 1) * limit
    results = [render(job, errors=False) for job in matching[start_at : start_at + limit]]
    return list_envelope(results, len(matching), page, limit)


def delete(mode: str, tenant: tenant_store.TenantItem, import_id: str) -> dict[str, Any]:
    """§10.5 (409 while processing, as issue 12 says): the job and its stored rows and
    file; the users it created or updated stay."""
    job = _get(mode, tenant.tenantId, import_id)
    if job.status == "processing":
        raise Conflict(IS_PROCESSING)
    answer = render(job)
    if not store.delete_job(job):
        raise Conflict(IS_PROCESSING)
    store.delete_rows(job.importId)
    if job.upload and os.environ.get("IMPORTS_BUCKET"):
        store.delete_upload(str(job.upload["key"]))
    return answer
