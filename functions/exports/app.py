"""Export a tenant's users as JSON Lines in the import format (an extension, "no lock-in":
docs/migration.md "Export"). Admin API key only: an export is every user at once, more
than an admin's access token should be able to carry out of the service."""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends


from aws_lambda_powertools.event_handler import Response

from portcullis.access.apicaller import api_caller
from portcullis.imports import export
from portcullis.platform import integers
from portcullis.platform.bodies import query, query_bool
from portcullis.platform.errors import Forbidden
from portcullis.platform.http import create_app, handler

app = create_app(credentials=api_caller)

NDJSON = "application/x-ndjson; charset=utf-8"
NEXT_CURSOR = "X-Next-Cursor"


def _include_hashes() -> bool:
    return query_bool(app, "includePasswordHashes", False)


# One user per line (not a JSON document): what the OpenAPI document says it answers.
EXPORTED = {
    200: {
        "description": "One user per line in the import format; `X-Next-Cursor` when more",
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
    }
}


@app.get("/v0/tenants/<tenantId>/users/export", responses=EXPORTED)  # type: ignore[arg-type]
def export_users(tenantId: str) -> Response[str]:
    who = api_caller(app)
    if who.kind != "api_key":
        raise Forbidden()
    tenant = who.tenant(tenantId, "admin")
    params = app.current_event.query_string_parameters
    limit = integers.query_int(params, "limit", export.DEFAULT_LIMIT, maximum=export.MAX_LIMIT)
    page = export.page(
        tenant.tenantId,
        who.mode,
        caller=f"apikey:{(who.key_digest or '')[:16]}@{who.tenant_id}",
        cursor=query(app, "cursor"),
        limit=limit,
        include_hashes=_include_hashes(),
    )
    headers = {"Cache-Control": "no-store", "X-Export-Count": str(page.count)}
    if page.next_cursor is not None:
        headers[NEXT_CURSOR] = page.next_cursor
    return Response(status_code=200, content_type=NDJSON, body=page.body, headers=headers)


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
