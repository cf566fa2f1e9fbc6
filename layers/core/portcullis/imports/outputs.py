"""The import job object the server API answers (api-server §1.10) as a pydantic model, for
the OpenAPI document (docs/openapi.md): documentation only, checked by the tests against
live answers (`tests/api/conformance.py`). It names the fields every answer carries
(`jobs.render`); answers carry more."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from portcullis.platform.http import answers

_OPEN = ConfigDict(extra="allow", defer_build=True)


class ImportJob(BaseModel):
    """`importId` is the job's id (`GET …/imports/{importId}`)."""

    model_config = _OPEN
    importId: str
    tenantId: str
    mode: Literal["test", "live"]
    status: str
    createdAt: str
    updatedAt: str


# The `responses=` of the import creation routes (functions/imports).
IMPORT_JOB = answers(ImportJob)
