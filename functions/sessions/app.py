"""Administrators read and end a user's sessions (api-server §7.9–7.10), with an API key
or an admin's access token; the account-level aliases act on the caller's home tenant."""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from portcullis.access import callers
from portcullis.access.apicaller import api_caller
from portcullis.platform import integers
from portcullis.platform.bodies import query_bool
from portcullis.platform.http import create_app, handler
from portcullis.sessions import views
from portcullis.sessions.responses import ENDED, SESSIONS
from portcullis.users import lookups

app = create_app(credentials=api_caller)


def _positive(name: str, default: int, maximum: int | None = None) -> int:
    params = app.current_event.query_string_parameters
    return integers.query_int(params, name, default, maximum=maximum)


def _active() -> bool:
    return query_bool(app, "active", True)


def _owner(tenant_id: str | None, user_id: str, level: callers.Level) -> tuple[str, str, int]:
    """Mode, tenant and user id of the addressed user, once the caller may reach them."""
    who = api_caller(app)
    tenant = who.tenant(tenant_id, level) if tenant_id else who.home(level)
    user = lookups.get_by_path_id(who.mode, tenant.tenantId, user_id)
    return who.mode, user.tenantId, int(user.userId)


def _read(tenant_id: str | None, user_id: str) -> dict[str, Any]:
    owner = _owner(tenant_id, user_id, "read")
    page = _positive("page", 1)
    limit = _positive("limit", views.DEFAULT_LIMIT, views.MAX_LIMIT)
    return views.user_sessions(*owner, active_only=_active(), page=page, limit=limit)


def _end(tenant_id: str | None, user_id: str, session_id: str | None = None) -> dict[str, Any]:
    return views.end_user_sessions(*_owner(tenant_id, user_id, "admin"), session_id)


@app.get("/v0/tenants/<tenantId>/users/<userId>/sessions", responses=SESSIONS)
def read_sessions(tenantId: str, userId: str) -> dict[str, Any]:
    return _read(tenantId, userId)


@app.delete("/v0/tenants/<tenantId>/users/<userId>/sessions", responses=ENDED)
def end_sessions(tenantId: str, userId: str) -> dict[str, Any]:
    return _end(tenantId, userId)


@app.delete("/v0/tenants/<tenantId>/users/<userId>/sessions/<sessionId>", responses=ENDED)
def end_session(tenantId: str, userId: str, sessionId: str) -> dict[str, Any]:
    return _end(tenantId, userId, sessionId)


@app.get("/v0/users/<userId>/sessions", responses=SESSIONS)
def read_home_sessions(userId: str) -> dict[str, Any]:
    return _read(None, userId)


@app.delete("/v0/users/<userId>/sessions", responses=ENDED)
def end_home_sessions(userId: str) -> dict[str, Any]:
    return _end(None, userId)


@app.delete("/v0/users/<userId>/sessions/<sessionId>", responses=ENDED)
def end_home_session(userId: str, sessionId: str) -> dict[str, Any]:
    return _end(None, userId, sessionId)


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
