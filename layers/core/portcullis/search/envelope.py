"""The one list envelope (api-server §1.9) every list endpoint answers with.

Users, tenants, sessions, keys, JWT keys, roles and a tenant's children all answer
`{totalCount, totalPages, results}`; search endpoints (and the paged session list) add
`meta`. Built here only, so `totalPages` is computed one way for all of them:
`ceil(totalCount / pageSize)`, 0 when empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def list_envelope(
    results: Sequence[Any],
    total: int | None = None,
    page: int = 1,
    limit: int | None = None,
    *,
    meta: bool = True,
    continuation: str | None = None,
) -> dict[str, Any]:
    """The envelope of one page of `total` items, `limit` per page.

    Without `total` and `limit` the page holds the whole list: the naturally small
    lists (keys, JWT keys, roles) answer every item at once, so `totalPages` is 1, or 0
    when there is none. `meta` is for search endpoints and carries the `continuation`
    of a bounded search that stopped before the end (docs/search.md).
    """
    total = len(results) if total is None else total
    limit = len(results) if limit is None else limit
    total_pages = math.ceil(total / limit) if total > 0 and limit > 0 else 0
    envelope: dict[str, Any] = {
        "totalCount": total,
        "totalPages": total_pages,
        "results": results,
    }
    if meta:
        envelope["meta"] = {
            "page": page,
            "pageSize": limit,
            "count": len(results),
            "totalCount": total,
            "totalPages": total_pages,
        }
        if continuation is not None:
            envelope["meta"]["continuation"] = continuation
    return envelope
