"""Administrators read and end a user's sessions (api-server §7.9–7.10), with an API key
or an admin's access token; the account-level aliases act on the caller's home tenant."""

from typing import Any

from portcullis.access import callers
from portcullis.platform import integers
from portcullis.platform.bodies import query
from portcullis.platform.errors import BadRequest, NotFound
from portcullis.platform.http import api_caller, create_app, handler
from portcullis.search.query import list_envelope
from portcullis.sessions import service as sessions
from portcullis.users import lookups

app = create_app(credentials=api_caller)

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def _positive(name: str, default: int, maximum: int | None = None) -> int:
    params = app.current_event.query_string_parameters
    return integers.query_int(params, name, default, maximum=maximum)


def _active() -> bool:
    raw = query(app, "active")
    if raw is None or raw == "true":
        return True
    if raw == "false":
        return False
    raise BadRequest('"active" must be a boolean')


def _owner(tenant_id: str | None, user_id: str, level: callers.Level) -> tuple[str, Any]:
    who = api_caller(app)
    tenant = who.tenant(tenant_id, level) if tenant_id else who.home(level)
    return who.mode, lookups.get_by_path_id(who.mode, tenant.tenantId, user_id)


def _read(tenant_id: str | None, user_id: str) -> dict[str, Any]:
    mode, user = _owner(tenant_id, user_id, "read")
    page, limit = _positive("page", 1), _positive("limit", DEFAULT_LIMIT, MAX_LIMIT)
    found = sessions.list_for_user(mode, user.tenantId, int(user.userId), active_only=_active())
    chunk = found[(page - 1) * limit : page * limit]
    return list_envelope([sessions.session_json(s) for s in chunk], len(found), page, limit)


def _end(tenant_id: str | None, user_id: str, session_id: str | None = None) -> dict[str, Any]:
    mode, user = _owner(tenant_id, user_id, "admin")
    owner = (mode, user.tenantId, int(user.userId))
    if session_id is None:
        ended = sessions.end_all(*owner, "admin")
    else:
        if sessions.owned(session_id, *owner) is None:
            raise NotFound("Session not found")
        ended = [session_id] if sessions.end_by_id(session_id, *owner, "admin") else []
    return {
        "message": "OK",
        "result": {"userId": int(user.userId), "endedCount": len(ended), "sessionIds": ended},
    }


@app.get("/v0/tenants/<tenantId>/users/<userId>/sessions")
def read_sessions(tenantId: str, userId: str) -> dict[str, Any]:
    return _read(tenantId, userId)


@app.delete("/v0/tenants/<tenantId>/users/<userId>/sessions")
def end_sessions(tenantId: str, userId: str) -> dict[str, Any]:
    return _end(tenantId, userId)


@app.delete("/v0/tenants/<tenantId>/users/<userId>/sessions/<sessionId>")
def end_session(tenantId: str, userId: str, sessionId: str) -> dict[str, Any]:
    return _end(tenantId, userId, sessionId)


@app.get("/v0/users/<userId>/sessions")
def read_home_sessions(userId: str) -> dict[str, Any]:
    return _read(None, userId)


@app.delete("/v0/users/<userId>/sessions")
def end_home_sessions(userId: str) -> dict[str, Any]:
    return _end(None, userId)


@app.delete("/v0/users/<userId>/sessions/<sessionId>")
def end_home_session(userId: str, sessionId: str) -> dict[str, Any]:
    return _end(None, userId, sessionId)


lambda_handler = handler(app)
