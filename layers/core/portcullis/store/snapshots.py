"""Snapshot reads: session, user, tenant and tenant settings in one consistent call.

One TransactGetItems across item types, so a token check or a settings read sees
one moment of the table; any of the parts can be left out.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactGet

from portcullis.store.base import connection, tenant_pk
from portcullis.store.sessions import SESSION_SK, SessionItem, session_pk
from portcullis.store.tenants import SETTINGS_SK, TENANT_SK, SettingsItem, TenantItem
from portcullis.store.users import UserItem, user_sk, users_pk


class Snapshot(NamedTuple):
    """What one TransactGetItems call read; `None` for an item that does not exist."""

    session: SessionItem | None
    user: UserItem | None
    tenant: TenantItem | None
    settings: dict[str, Any] | None


def _resolve(future: Any) -> Any:
    try:
        return future.get()
    except DoesNotExist:
        return None


def read_snapshot(
    session_id: str | None,
    mode: str,
    tenant_id: str,
    user_id: int | None,
    *,
    with_tenant: bool = True,
    with_settings: bool = True,
) -> Snapshot:
    """Session, user, tenant and tenant settings in one strongly consistent call.

    The session and the user are addressed by the ids the (signature-checked) token
    claims; the caller still compares the session's owner with the claims.
    """
    futures: dict[str, Any] = {}
    with TransactGet(connection=connection()) as tx:
        if session_id is not None:
            futures["session"] = tx.get(SessionItem, session_pk(session_id), SESSION_SK)
        if user_id is not None:
            futures["user"] = tx.get(UserItem, users_pk(mode, tenant_id), user_sk(user_id))
        if with_tenant:
            futures["tenant"] = tx.get(TenantItem, tenant_pk(mode, tenant_id), TENANT_SK)
        if with_settings:
            futures["settings"] = tx.get(SettingsItem, tenant_pk(mode, tenant_id), SETTINGS_SK)
    settings_item = _resolve(futures["settings"]) if with_settings else None
    return Snapshot(
        session=_resolve(futures["session"]) if "session" in futures else None,
        user=_resolve(futures["user"]) if "user" in futures else None,
        tenant=_resolve(futures["tenant"]) if "tenant" in futures else None,
        settings=dict(settings_item.overrides or {}) if settings_item else None,
    )
