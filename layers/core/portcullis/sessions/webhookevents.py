"""Opt-in session webhook events (Portcullis extension, docs/webhooks.md "Session events").

`session.create` when a sign-in writes a session, `session.end` when one ends (logout,
"log out everywhere", an admin, a password change, refresh-token reuse...), with the
session object of docs/sessions.md as `record` (never a token or a jti digest). They go
to `sessionCreatedWebhookUrl` / `sessionEndedWebhookUrl` only (webhooks/targets.py),
and are written only when the session's tenant has that URL set: a tenant that did not
opt in pays nothing (the sign-in's transaction and call count are unchanged).

The create event joins the sign-in's transaction. Ending a session is a conditional
update of its own, so its event is written right after it succeeds (a crash between the
two loses that one event: ends are not transactional today).
"""

from __future__ import annotations

from collections.abc import Iterable

from portcullis.messaging import outbox
from portcullis.sessions.records import session_json
from portcullis.store import sessions as store
from portcullis.store.outbox import OutboxItem
from portcullis.store.sessions import SessionItem
from portcullis.tenancy import state
from portcullis.tenancy.settings import TenantSettings
from portcullis.webhooks import targets


def _record(session: SessionItem) -> dict[str, object]:
    record = session_json(session)
    record.pop("isCurrent", None)  # about a caller's token: there is none here
    return record


def created_item(
    session: SessionItem, settings: TenantSettings, ancestor_tenant_ids: Iterable[str]
) -> OutboxItem | None:
    """The `session.create` event to add to the sign-in's transaction, or None when the
    tenant has no `sessionCreatedWebhookUrl` (`settings`: those the request holds)."""
    if targets.url_for(settings, "session", "create") is None:
        return None
    return outbox.event_item(
        "create",
        "session",
        session.mode,
        _record(session),
        tenant_id=session.tenantId,
        ancestor_tenant_ids=ancestor_tenant_ids,
    )


def announce_end(session_id: str, mode: str, tenant_id: str) -> None:
    """Write `session.end` for a session this call just ended, if the tenant wants it.
    The tenant's settings come from the per-instance cache (tenancy/state.py); the ended
    session is read back only when the event is written."""
    current = state.tenant_state(mode, tenant_id)
    if current is None or targets.url_for(current.settings, "session", "end") is None:
        return
    session = store.get(session_id)
    if session is None:
        return
    outbox.enqueue(
        [
            outbox.event_item(
                "end",
                "session",
                mode,
                _record(session),
                tenant_id=tenant_id,
                ancestor_tenant_ids=current.tenant.ancestors,
            )
        ]
    )
