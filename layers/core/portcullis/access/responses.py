"""The `responses=` of the API key and role routes (functions/keys, functions/roles):
references to their answer models in `access.outputs`, which only the OpenAPI generator
imports (`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

# The key routes (functions/keys).
KEY_CREATED = answers("portcullis.access.outputs:KeyCreated")
KEYS = answers("portcullis.access.outputs:ApiKeyPage")
KEY_CHECKED = answers("portcullis.access.outputs:KeyStatusDone")
KEY_CHANGED = answers("portcullis.access.outputs:ApiKeyDone")

# The role routes (functions/roles).
ROLE = answers("portcullis.access.outputs:Role")
ROLES = answers("portcullis.access.outputs:RolePage")
ROLE_DELETED = answers("portcullis.access.outputs:RoleDeletedDone")
