"""A tenant and its settings of one mode, cached per Lambda instance for a few seconds.

Public endpoints (sign-in, `/mode`) and the per-credential buckets need them on every
request; reading them each time would add one or two DynamoDB calls per request. The
price is that a settings change reaches a warm instance up to `CACHE_SECONDS` later
(docs/auth.md). Unknown tenants are never cached, so a new tenant works at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any, NamedTuple

from cachetools import TTLCache
from pydantic import ValidationError

from portcullis.store import snapshots
from portcullis.store.tenants import TenantItem
from portcullis.tenancy import parentlimits
from portcullis.tenancy import settings as tenant_settings
from portcullis.tenancy.settings import TenantSettings

CACHE_SECONDS = 5.0
# Bounded (least recently used first): one instance serves many tenants.
MAX_CACHED_TENANTS = 1024


class TenantState(NamedTuple):
    tenant: TenantItem
    settings: TenantSettings


_lock = threading.Lock()
_cache: TTLCache[tuple[str, str], TenantState] = TTLCache(
    maxsize=MAX_CACHED_TENANTS, ttl=CACHE_SECONDS, timer=time.monotonic
)


def settings_from(overrides: dict[str, Any] | None, mode: str, tenant_id: str) -> TenantSettings:
    """Parse stored overrides as `settings.read` does; a record an older version wrote
    that no longer validates as a whole takes `settings.read`'s field-by-field path."""
    try:
        return TenantSettings.model_validate(overrides or {})
    except ValidationError:
        return tenant_settings.read(mode, tenant_id)


def remember(mode: str, tenant: TenantItem, overrides: dict[str, Any] | None) -> TenantState:
    """Parse and cache what a request just read anyway (refresh, /self)."""
    state = TenantState(tenant, settings_from(overrides, mode, tenant.tenantId))
    with _lock:
        _cache[(mode, tenant.tenantId)] = state
    return _within_parent(mode, state)


def tenant_state(mode: str, tenant_id: str) -> TenantState | None:
    """Tenant and settings of one mode: cached, else one TransactGetItems call."""
    with _lock:
        cached = _cache.get((mode, tenant_id))
    if cached is not None:
        return _within_parent(mode, cached)
    snapshot = snapshots.read_snapshot(None, mode, tenant_id, None)
    if snapshot.tenant is None:
        return None
    return remember(mode, snapshot.tenant, snapshot.settings)


def effective(mode: str, tenant: TenantItem, own: TenantSettings) -> TenantSettings:
    """`own` settings of `tenant` with its rate limits clamped to its parent's effective
    limits (`tenancy.parentlimits`), read through this cache, which clamps the parent in
    turn. The cache holds each tenant's own settings and the clamp is applied on every
    read, so a parent's change counts for its children as soon as it counts for the
    parent."""
    if not tenant.ancestors:
        return own
    parent = tenant_state(mode, tenant.ancestors[0])
    return own if parent is None else parentlimits.clamped(own, parent.settings.rateLimits)


def _within_parent(mode: str, state: TenantState) -> TenantState:
    clamped = effective(mode, state.tenant, state.settings)
    return state if clamped is state.settings else TenantState(state.tenant, clamped)


def forget() -> None:
    """Drop every cached tenant (tests that change settings in-process)."""
    with _lock:
        _cache.clear()
