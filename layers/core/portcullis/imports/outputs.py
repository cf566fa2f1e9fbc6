"""The answers of the import routes (docs/imports.md) as pydantic models, for the OpenAPI
document (docs/openapi.md): documentation only, checked by the tests against live
answers (`tests/api/conformance.py`)."""

from __future__ import annotations

from typing import Any

from portcullis.platform.outputs import Answer, Page


class ImportSummary(Answer):
    """An import job as listed: its state and counts."""

    importId: str
    tenantId: str
    mode: str
    status: str
    format: str
    source: str
    options: dict[str, Any]
    totalCount: int
    processedCount: int
    createdCount: int
    updatedCount: int
    errorCount: int
    createdAt: str
    updatedAt: str
    startedAt: str | None
    completedAt: str | None


class ImportJob(ImportSummary):
    """One import job read alone: with its row errors (and, on creation of an upload
    job, the presigned `upload` request)."""

    errors: list[dict[str, Any]]


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
ImportSummaryPage = Page[ImportSummary]
