"""What the server API's session endpoints answer (api-server §7.9–7.10): a user's
sessions read one page at a time in the list envelope, and the outcome of ending them.

The caller and the user are resolved by the route; everything here is already scoped to
one user of one tenant and mode, so a session id of anyone else reads as not found.
"""

from __future__ import annotations

from typing import Any

from portcullis.platform.errors import NotFound
from portcullis.search.envelope import list_envelope
from portcullis.sessions import lifecycle, listing

# Page size of the session list when `limit` is absent, and the most it may ask for
# (api-server §1.9: the same as every other list).
DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def user_sessions(
    mode: str, tenant_id: str, user_id: int, *, active_only: bool, page: int, limit: int
) -> dict[str, Any]:
    """One page of the user's sessions, most recently active first, with `meta`. A page
    past the end is empty and keeps the real totals (§1.9)."""
    found = listing.list_for_user(mode, tenant_id, user_id, active_only=active_only)
    chunk = found[(page - 1) * limit : page * limit]
    return list_envelope([listing.session_json(s) for s in chunk], len(found), page, limit)


def end_user_sessions(
    mode: str, tenant_id: str, user_id: int, session_id: str | None = None
) -> dict[str, Any]:
    """End every active session of the user, or the one named (404 unless it is theirs;
    one already ended is counted as none ended). Ending none is still a success."""
    owner = (mode, tenant_id, user_id)
    if session_id is None:
        ended = lifecycle.end_all(*owner, "admin")
    else:
        if listing.owned(session_id, *owner) is None:
            raise NotFound("Session not found")
        ended = [session_id] if lifecycle.end_by_id(session_id, *owner, "admin") else []
    return {
        "message": "OK",
        "result": {"userId": user_id, "endedCount": len(ended), "sessionIds": ended},
    }
