"""Schemathesis hooks (`SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks`) for the fuzz run
of `test_openapi_fuzz.py`: every `{tenantId}` is the run's own tenant (from
`PORTCULLIS_FUZZ_TENANT`), so generated requests reach the routes' real work instead of
stopping at 403/404 for a random id.
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
