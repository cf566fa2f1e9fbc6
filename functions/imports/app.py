"""User imports (api-server §10): create, process, list, read and delete import jobs, at
`/v0/tenants/{tenantId}/imports…` and the account-level aliases `/v0/imports…` (the
caller's home tenant). The work itself is the import worker's (`functions/importworker`).
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from portcullis.access import callers
from portcullis.access.apicaller import api_caller
from portcullis.imports import jobs
from portcullis.imports.jobs import ImportCreate
from portcullis.imports.responses import IMPORT, IMPORTS
from portcullis.platform import integers
from portcullis.platform.bodies import query
from portcullis.platform.http import create_app, handler
from portcullis.users.records import Tenant as TenantItem

app = create_app(credentials=api_caller)

# §10.1: inline rows come in bodies of up to 5 MiB (413 beyond).
MAX_BODY_BYTES = 5 * 1024 * 1024


def _scope(tenant_id: str | None, level: callers.Level) -> tuple[str, TenantItem]:
    """Mode and tenant of the request, once the caller may reach the tenant at `level`."""
    who = api_caller(app)
    tenant = who.tenant(tenant_id, level) if tenant_id else who.home(level)
    return who.mode, tenant


def _create(tenant_id: str | None, body: ImportCreate) -> dict[str, Any]:
    return jobs.create(*_scope(tenant_id, "admin"), body)


def _list(tenant_id: str | None) -> dict[str, Any]:
    mode, tenant = _scope(tenant_id, "read")
    params = app.current_event.query_string_parameters
    page = integers.query_int(params, "page", 1)
    limit = integers.query_int(params, "limit", jobs.DEFAULT_LIMIT, maximum=jobs.MAX_LIMIT)
    return jobs.list_imports(mode, tenant, status=query(app, "status"), page=page, limit=limit)


@app.post("/v0/tenants/<tenantId>/imports", responses=IMPORT)
def create_import(tenantId: str, body: ImportCreate) -> dict[str, Any]:
    return _create(tenantId, body)


@app.get("/v0/tenants/<tenantId>/imports", responses=IMPORTS)
def list_imports(tenantId: str) -> dict[str, Any]:
    return _list(tenantId)


@app.get("/v0/tenants/<tenantId>/imports/<importId>", responses=IMPORT)
def read_import(tenantId: str, importId: str) -> dict[str, Any]:
    return jobs.read(*_scope(tenantId, "read"), importId)


@app.delete("/v0/tenants/<tenantId>/imports/<importId>", responses=IMPORT)
def delete_import(tenantId: str, importId: str) -> dict[str, Any]:
    return jobs.delete(*_scope(tenantId, "admin"), importId)


@app.post("/v0/tenants/<tenantId>/imports/<importId>/process", responses=IMPORT)
def process_import(tenantId: str, importId: str) -> dict[str, Any]:
    return jobs.process(*_scope(tenantId, "admin"), importId)


@app.post("/v0/imports", responses=IMPORT)
def create_home_import(body: ImportCreate) -> dict[str, Any]:
    return _create(None, body)


@app.get("/v0/imports", responses=IMPORTS)
def list_home_imports() -> dict[str, Any]:
    return _list(None)


@app.get("/v0/imports/<importId>", responses=IMPORT)
def read_home_import(importId: str) -> dict[str, Any]:
    return jobs.read(*_scope(None, "read"), importId)


@app.delete("/v0/imports/<importId>", responses=IMPORT)
def delete_home_import(importId: str) -> dict[str, Any]:
    return jobs.delete(*_scope(None, "admin"), importId)


@app.post("/v0/imports/<importId>/process", responses=IMPORT)
def process_home_import(importId: str) -> dict[str, Any]:
    return jobs.process(*_scope(None, "admin"), importId)


lambda_handler = handler(app, max_body_bytes=MAX_BODY_BYTES)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
