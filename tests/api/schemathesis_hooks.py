"""Schemathesis hooks (`SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks`) for the runs of
`test_openapi.py`: every generated `{tenantId}` is the run's own tenant (from
`PORTCULLIS_FUZZ_TENANT`), so generated requests reach the routes' real work instead of
stopping at 403/404 for a random id. In the stateful phase a `{tenantId}` that a link
filled (a child tenant just created) is not generated, so it never reaches this hook and
stays the linked one.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

TENANT = os.environ.get("PORTCULLIS_FUZZ_TENANT", "")


@schemathesis.hook
def map_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
    if TENANT and path_parameters and "tenantId" in path_parameters:
        path_parameters["tenantId"] = TENANT
    return path_parameters
