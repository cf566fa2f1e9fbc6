"""The `responses=` of the tenant routes (functions/tenants): references to their answer
models in `tenants.outputs`, which only the OpenAPI generator imports
(`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

TENANT = answers("portcullis.tenants.outputs:Tenant")
TENANTS = answers("portcullis.tenants.outputs:ChildTenantPage")
SETTINGS = answers("portcullis.tenants.outputs:Settings")
