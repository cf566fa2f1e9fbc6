"""The session answers (api-client §9.6, api-server §1.8, §7.9–7.10) as pydantic models,
for the OpenAPI document (docs/openapi.md): documentation only, checked by the tests
against live answers (`tests/api/conformance.py`)."""

from __future__ import annotations

from typing import Any, Literal

from portcullis.platform.outputs import Answer, Done, Page, Results


class Session(Answer):
    """`records.session_json`: the session object; rotation state never leaves."""

    sessionId: str
    isCurrent: bool
    isActive: bool
    userId: int
    userUuid: str
    tenantId: str
    mode: Literal["test", "live"]
    createdAt: str
    lastActiveAt: str | None
    expiresAt: str
    endedAt: str | None
    endedReason: str | None
    ipAddress: str | None
    userAgent: str | None
    authentication: dict[str, Any]


class Ended(Answer):
    """What ending a user's sessions did (`views.end_user_sessions`)."""

    userId: int
    endedCount: int
    sessionIds: list[str]


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
SessionResults = Results[Session]
SessionPage = Page[Session]
EndedDone = Done[Ended]
