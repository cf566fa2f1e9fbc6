"""Email templates of a tenant (Portcullis extension, docs/emails.md): read, replace,
remove and preview the template of one email or SMS type, per tenant and mode.

`{type}` is one of `welcome`, `login`, `reset`, `verify`, `invite`, `code` (emails:
`subject`, `html`, `text`) or `code.sms` (SMS: `text`). Admin of the tenant only, in
the caller's mode. Templates are Jinja2, checked at save time and rendered in the
sandbox (portcullis/messaging/emailtemplates.py).
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from portcullis.access import callers
from portcullis.access.apicaller import api_caller
from portcullis.messaging import templateadmin
from portcullis.messaging.responses import PREVIEW, TEMPLATE
from portcullis.platform.bodies import json_body
from portcullis.platform.http import create_app, handler

app = create_app(credentials=api_caller)


def _scope(tenant_id: str, template_type: str) -> tuple[callers.Caller, Any]:
    """The caller and the tenant it administers; the type is checked after the scope, so
    a caller without access learns nothing from the answer."""
    who: callers.Caller = api_caller(app)
    tenant = who.tenant(tenant_id, "admin")
    templateadmin.check_type(template_type)
    return who, tenant


@app.get("/v0/tenants/<tenantId>/emails/<emailType>", responses=TEMPLATE)
def read_template(tenantId: str, emailType: str) -> dict[str, Any]:
    who, tenant = _scope(tenantId, emailType)
    return templateadmin.describe(who.mode, tenant, emailType)


@app.put("/v0/tenants/<tenantId>/emails/<emailType>", responses=TEMPLATE)
def save_template(tenantId: str, emailType: str) -> dict[str, Any]:
    who, tenant = _scope(tenantId, emailType)
    return templateadmin.save(who.mode, tenant, emailType, json_body(app))


@app.delete("/v0/tenants/<tenantId>/emails/<emailType>", responses=TEMPLATE)
def delete_template(tenantId: str, emailType: str) -> dict[str, Any]:
    who, tenant = _scope(tenantId, emailType)
    return templateadmin.remove(who.mode, tenant, emailType)


@app.post("/v0/tenants/<tenantId>/emails/<emailType>/preview", responses=PREVIEW)
def preview_template(tenantId: str, emailType: str) -> dict[str, Any]:
    who, tenant = _scope(tenantId, emailType)
    return templateadmin.preview(who.mode, tenant, emailType, json_body(app))


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
