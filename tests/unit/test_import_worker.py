"""The import worker against moto (api-server §10.2): a chunk message delivered twice
(SQS delivers at least once) applies and counts its rows once, and the job completes
once every chunk is done."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.client import BaseClient

from portcullis.imports import apply, chunks, jobs, rows, worker
from portcullis.imports.jobs import ImportCreate
from portcullis.store import imports as store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.tenants.workspace import create_workspace
from portcullis.users import service


@pytest.fixture(autouse=True)
def one_row_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The unit tests' plain moto copies the whole table in every transaction and fails
    (500) when two run at once; the local runtime (tests/api/test_imports.py) serialises
    DynamoDB calls and runs the worker's rows side by side."""
    monkeypatch.setattr(worker, "ROW_THREADS", 1)
    # Small chunks: several chunks from a few rows (plain moto's transactions are slow).
    monkeypatch.setattr(rows, "CHUNK_ROWS", 4)


@pytest.fixture(scope="module")
def tenant(aws: str) -> tenant_store.TenantItem:
    tenant_id = create_workspace("Import worker unit tests").tenant_id
    found = tenant_store.get_tenant("test", tenant_id)
    assert found is not None
    return found


def test_a_redelivered_chunk_is_not_counted_twice(tenant: tenant_store.TenantItem) -> None:
    users: list[dict[str, str]] = [
        {"email": f"w{n}@example.com", "name": f"W{n}"} for n in range(9)
    ]
    users.append({"email": "bad"})
    created = jobs.create("test", tenant, ImportCreate(users=users))
    job = store.get_job("test", tenant.tenantId, created["importId"])
    assert job is not None and job.chunkCount == 3 and job.errorCount == 1
    assert store.start(job, "2026-01-01T00:00:00.000Z")

    first = jobs.message(job, "chunk", 0)
    assert worker.handle(first) == "chunk 0 done"
    assert worker.handle(first) == "chunk already done"
    halfway = store.get_job("test", tenant.tenantId, job.importId)
    assert halfway is not None and halfway.status == "processing"
    assert (halfway.processedCount, halfway.createdCount, halfway.chunksDone) == (4, 4, 1)

    assert worker.handle(jobs.message(job, "chunk", 2), receive_count=2) == "chunk 2 done"
    last = jobs.message(job, "chunk", 1)
    assert worker.handle(last) == "chunk 1 done"
    assert worker.handle(last, receive_count=3) == "import completed"
    done = jobs.read("test", tenant, job.importId)
    assert done["status"] == "completed"
    assert (done["processedCount"], done["createdCount"], done["errorCount"]) == (10, 9, 1)
    assert [e["index"] for e in done["errors"]] == [9]
    assert user_store.get_by_unique("test", tenant.tenantId, "email", "w8@example.com")


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


def test_a_chunk_that_failed_after_its_rows_applies_again_without_duplicates(
    tenant: tenant_store.TenantItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk's batched reads (`apply.prefetch`) see what the failed delivery wrote:
    its rows update the users it created, no id is taken twice, no user is made twice."""
    users = [{"email": f"again{n}@example.com", "name": f"A{n}"} for n in range(3)]
    users.append({"userId": 9_100_001, "email": "again-explicit@example.com"})
    created = jobs.create("test", tenant, ImportCreate(users=users))
    job = store.get_job("test", tenant.tenantId, created["importId"])
    assert job is not None and job.chunkCount == 1
    assert store.start(job, "2026-01-01T00:00:00.000Z")
    real = store.complete_chunk

    def lost(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("the Lambda timed out before the chunk was recorded")

    monkeypatch.setattr(store, "complete_chunk", lost)
    message = jobs.message(job, "chunk", 0)
    with pytest.raises(RuntimeError):
        worker.handle(message)
    made = {
        u["email"]: user_store.get_by_unique("test", tenant.tenantId, "email", u["email"])
        for u in users
    }
    assert all(made.values())
    ids = sorted(int(u.userId) for u in made.values() if u is not None)
    assert len(set(ids)) == 4 and ids[-1] == 9_100_001
    assert ids[:3] == list(range(ids[0], ids[0] + 3))  # one ADD for the chunk's three

    monkeypatch.setattr(store, "complete_chunk", real)
    assert worker.handle(message, receive_count=2) == "chunk 0 done"
    done = jobs.read("test", tenant, job.importId)
    assert done["status"] == "completed"
    assert (done["processedCount"], done["updatedCount"], done["errorCount"]) == (4, 4, 0)
    for u in users:
        again = user_store.get_by_unique("test", tenant.tenantId, "email", u["email"])
        before = made[u["email"]]
        assert again is not None and before is not None and again.userId == before.userId
    # The sequence moved past the explicit id: the next new user gets a higher one.
    assert user_store.allocate_user_id("test", tenant.tenantId) > 9_100_001


# ------------------------------------------------------------------ grouped rows


def _started(tenant: tenant_store.TenantItem, create: ImportCreate) -> store.ImportItem:
    created = jobs.create("test", tenant, create)
    job = store.get_job("test", tenant.tenantId, created["importId"])
    assert job is not None and store.start(job, "2026-01-01T00:00:00.000Z")
    return job


class _Transactions:
    """The TransactWriteItems calls that wrote a user record (botocore's, not ours)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sizes: list[int] = []
        real = BaseClient._make_api_call

        def counted(client: Any, name: str, params: dict[str, Any]) -> Any:
            if name == "TransactWriteItems":
                puts = [i["Put"]["Item"] for i in params["TransactItems"] if "Put" in i]
                if any(p["pk"]["S"].startswith("USERS#") for p in puts):
                    self.sizes.append(len(params["TransactItems"]))
            return real(client, name, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", counted)


def test_rows_of_a_chunk_commit_together_within_100_actions(
    tenant: tenant_store.TenantItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows, "CHUNK_ROWS", 40)
    job = _started(tenant, ImportCreate(users=[{"email": f"g{n}@example.com"} for n in range(40)]))
    sent = _Transactions(monkeypatch)
    assert worker.handle(jobs.message(job, "chunk", 0)) == "chunk 0 done"
    done = jobs.read("test", tenant, job.importId)
    assert (done["status"], done["createdCount"], done["errorCount"]) == ("completed", 40, 0)
    # Record, email guard and event a row: 120 actions in two transactions, not 40.
    assert sent.sizes == [99, 21]
    for n in range(40):
        assert user_store.get_by_unique("test", tenant.tenantId, "email", f"g{n}@example.com")


def test_a_bad_row_fails_alone_and_its_group_is_written(
    tenant: tenant_store.TenantItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row whose email names an existing user (`updateExisting` false) is refused
    before anything is sent; one whose username is taken cancels its group's
    transaction, and the group's rows are then applied one by one: that row gets the
    error it gets alone, its neighbours are created."""
    holder = service.register(
        "test", tenant, {"email": "holder@example.com", "username": "taken-name"}
    )
    users = [
        {"email": "bad-group0@example.com", "name": "Zero"},
        {"email": "bad-group1@example.com", "username": "taken-name"},
        {"email": "holder@example.com", "name": "Not me"},
        {"email": "bad-group3@example.com", "username": "free-name"},
    ]
    job = _started(
        tenant, ImportCreate(users=users, options=jobs.ImportOptions(updateExisting=False))
    )
    sent = _Transactions(monkeypatch)
    assert worker.handle(jobs.message(job, "chunk", 0)) == "chunk 0 done"
    done = jobs.read("test", tenant, job.importId)
    assert (done["createdCount"], done["updatedCount"], done["errorCount"]) == (2, 0, 2)
    assert done["errors"] == [
        {
            "index": 1,
            "userId": None,
            "email": "bad-group1@example.com",
            "message": "Username already exists",
        },
        {
            "index": 2,
            "userId": None,
            "email": "holder@example.com",
            "message": "User already exists",
        },
    ]
    # One grouped try (three rows), then each of its rows alone.
    assert len(sent.sizes) == 4 and sent.sizes[0] > sent.sizes[1]
    for email in ("bad-group0@example.com", "bad-group3@example.com"):
        assert user_store.get_by_unique("test", tenant.tenantId, "email", email)
    assert (
        user_store.get_by_unique("test", tenant.tenantId, "email", "bad-group1@example.com") is None
    )
    kept = user_store.get_by_unique("test", tenant.tenantId, "username", "taken-name")
    assert kept is not None and kept.userId == holder.userId and kept.name == ""
    assert user_store.get_by_unique("test", tenant.tenantId, "username", "free-name")


def test_a_chunk_redelivered_after_its_grouped_commit_creates_no_one_twice(
    tenant: tenant_store.TenantItem,
) -> None:
    """A delivery that committed its rows' group and stopped before recording the chunk
    (a Lambda timeout): the redelivery finds and updates them, counts the chunk once."""
    users = [{"email": f"grouped-again{n}@example.com", "name": f"G{n}"} for n in range(3)]
    users.append({"userId": 9_200_001, "email": "grouped-again-explicit@example.com"})
    job = _started(tenant, ImportCreate(users=users))
    # What the first delivery did before it stopped: the chunk's rows, applied.
    chunk = store.get_chunk(job.importId, 0)
    assert chunk is not None
    entries = chunks.open_rows(chunk)
    target = worker._target(job)
    known = apply.prefetch(target, [entry["row"] for entry in entries])
    first = worker._apply_entries(target, known, entries)
    assert [outcome for outcome, _ in first] == ["created"] * 4
    made = {
        u["email"]: user_store.get_by_unique("test", tenant.tenantId, "email", u["email"])
        for u in users
    }
    before = sum(1 for _ in user_store.iterate_users("test", tenant.tenantId))

    message = jobs.message(job, "chunk", 0)
    assert worker.handle(message, receive_count=2) == "chunk 0 done"
    assert worker.handle(message, receive_count=3) == "import completed"
    done = jobs.read("test", tenant, job.importId)
    assert (done["processedCount"], done["createdCount"], done["updatedCount"]) == (4, 0, 4)
    assert done["errorCount"] == 0
    assert sum(1 for _ in user_store.iterate_users("test", tenant.tenantId)) == before
    for u in users:
        again = user_store.get_by_unique("test", tenant.tenantId, "email", u["email"])
        first_made = made[u["email"]]
        assert again is not None and first_made is not None
        assert again.userId == first_made.userId and again.version == first_made.version + 1
