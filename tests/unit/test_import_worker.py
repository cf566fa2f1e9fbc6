"""The import worker against moto (api-server §10.2): a chunk message delivered twice
(SQS delivers at least once) applies and counts its rows once, and the job completes
once every chunk is done."""

from __future__ import annotations

import pytest

from portcullis.imports import jobs, worker
from portcullis.imports.jobs import ImportCreate
from portcullis.store import imports as store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.tenants.workspace import create_workspace


@pytest.fixture(scope="module")
def tenant(aws: str) -> tenant_store.TenantItem:
    tenant_id = create_workspace("Import worker unit tests").tenant_id
    found = tenant_store.get_tenant("test", tenant_id)
    assert found is not None
    return found


def test_a_redelivered_chunk_is_not_counted_twice(tenant: tenant_store.TenantItem) -> None:
    users = [{"email": f"w{n}@example.com", "name": f"W{n}"} for n in range(130)]
    users.append({"email": "bad"})
    created = jobs.create("test", tenant, ImportCreate(users=users))
    job = store.get_job("test", tenant.tenantId, created["importId"])
    assert job is not None and job.chunkCount == 2 and job.errorCount == 1
    assert store.start(job, "2026-01-01T00:00:00.000Z")

    first = jobs.message(job, "chunk", 0)
    assert worker.handle(first) == "chunk 0 done"
    assert worker.handle(first) == "chunk already done"
    halfway = store.get_job("test", tenant.tenantId, job.importId)
    assert halfway is not None and halfway.status == "processing"
    assert (halfway.processedCount, halfway.createdCount, halfway.chunksDone) == (100, 100, 1)

    last = jobs.message(job, "chunk", 1)
    assert worker.handle(last, receive_count=2) == "chunk 1 done"
    assert worker.handle(last, receive_count=3) == "import completed"
    done = jobs.read("test", tenant, job.importId)
    assert done["status"] == "completed"
    assert (done["processedCount"], done["createdCount"], done["errorCount"]) == (131, 130, 1)
    assert [e["index"] for e in done["errors"]] == [130]
    assert user_store.get_by_unique("test", tenant.tenantId, "email", "w129@example.com")


def test_the_last_failed_receive_marks_the_job_failed(tenant: tenant_store.TenantItem) -> None:
    created = jobs.create("test", tenant, ImportCreate(users=[{"email": "f@example.com"}]))
    job = store.get_job("test", tenant.tenantId, created["importId"])
    assert job is not None and store.start(job, "2026-01-01T00:00:00.000Z")
    store.delete_rows(job.importId)  # the stored rows are gone: the chunk cannot run
    message = jobs.message(job, "chunk", 0)
    with pytest.raises(RuntimeError):
        worker.handle(message, receive_count=1)
    assert jobs.read("test", tenant, job.importId)["status"] == "processing"
    with pytest.raises(RuntimeError):
        worker.handle(message, receive_count=worker.MAX_RECEIVES)
    failed = jobs.read("test", tenant, job.importId)
    assert failed["status"] == "failed" and failed["processedCount"] == 0
    assert failed["failure"] == "the import stopped on an internal error"
