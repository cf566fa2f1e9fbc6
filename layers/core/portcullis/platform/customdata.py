"""The free-form `data` object of users and tenants: how updates merge, how big it may be.

The size cap keeps a record (plus the copy its webhook event carries) well inside
DynamoDB's 400 KB item limit, so an oversized object is a 400, never a failed write.
"""

from __future__ import annotations

import json
from typing import Any

from portcullis.platform.errors import BadRequest

MAX_DATA_BYTES = 64 * 1024


def merge_data(stored: dict[str, Any], change: dict[str, Any] | None) -> dict[str, Any]:
    """Shallow merge: sent keys replace, `null` removes, unsent keys stay (api-server §1.4)."""
    merged = dict(stored or {})
    for key, value in (change or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def check_data_size(data: Any, name: str = "data") -> None:
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_DATA_BYTES:
        raise BadRequest(f'"{name}" must be at most {MAX_DATA_BYTES} bytes')
