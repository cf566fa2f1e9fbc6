"""A child tenant's rate limits never exceed its parent's (issue 8, item 8).

Why: every tenant admin, a child tenant's too, may change its tenant's `rateLimits`.
Without a ceiling a child admin could raise `requestsPerCredential` or
`searchesPerCredential` (or the per-IP and per-target limits that protect the
deployment's mail and SMS sending) as far as the schema allows, and use its own
credentials as a lever for load on a service the workspace pays for. The parent's limits
are the ceiling: a `PUT .../settings` that sets a limit above it is a 400 naming the
field, and because a parent may lower its limits later, every read of a child's limits
(`tenancy.state`, the settings endpoint) clamps them again. The workspace (a tenant
without a parent) is bounded only by the schema.

"Exceeds": a limit `n per w seconds` exceeds the parent's `N per W` when it allows a
larger burst (`n > N`) or a higher rate (`n / w > N / W`). An exceeding limit is
replaced by the parent's as a whole, so the effective limit is always one a tenant on
the path to the workspace has actually set.
"""

from __future__ import annotations

from typing import Any

from portcullis.platform.errors import BadRequest
from portcullis.store.tenants import TenantItem
from portcullis.tenancy import settings as tenant_settings
from portcullis.tenancy.settings import RateLimit, RateLimits, TenantSettings

NAMES: tuple[str, ...] = tuple(RateLimits.model_fields)


def exceeds(child: RateLimit, parent: RateLimit) -> bool:
    """More burst, or more requests per second, than the parent allows."""
    more_rate = child.limit * parent.windowSeconds > parent.limit * child.windowSeconds
    return child.limit > parent.limit or more_rate


def within(own: RateLimits, parent: RateLimits) -> RateLimits:
    """`own` with every limit that exceeds the parent's replaced by the parent's."""
    changes = {
        name: getattr(parent, name)
        for name in NAMES
        if exceeds(getattr(own, name), getattr(parent, name))
    }
    return own.model_copy(update=changes) if changes else own


def clamped(own: TenantSettings, parent: RateLimits) -> TenantSettings:
    """`own` settings with every rate limit that exceeds the parent's replaced by it."""
    limits = within(own.rateLimits, parent)
    return own if limits is own.rateLimits else own.model_copy(update={"rateLimits": limits})


def ceiling(mode: str, tenant: TenantItem) -> RateLimits | None:
    """The effective limits of the tenant's parent, read fresh (no cache): what a
    settings change of `tenant` is checked against. None for the workspace."""
    if not tenant.ancestors:
        return None
    limits: RateLimits | None = None
    for ancestor_id in reversed(tenant.ancestors):  # the workspace first
        own = tenant_settings.read(mode, ancestor_id).rateLimits
        limits = own if limits is None else within(own, limits)
    return limits


def check(mode: str, tenant: TenantItem, change: Any) -> None:
    """Refuse (400 naming the field) a settings change that sets a rate limit above the
    parent's. Only the limits the change names are checked: a limit stored earlier that
    a parent has since undercut is clamped at read time, and must not block unrelated
    changes. Malformed values are left to the settings schema to report."""
    if not isinstance(change, dict) or not isinstance(change.get("rateLimits"), dict):
        return
    parent = ceiling(mode, tenant)
    if parent is None:
        return
    for name, value in change["rateLimits"].items():
        if name not in NAMES:
            continue
        try:
            wanted = RateLimit.model_validate(value)
        except ValueError:
            continue
        top: RateLimit = getattr(parent, name)
        if exceeds(wanted, top):
            raise BadRequest(
                f'"rateLimits.{name}" cannot exceed the parent tenant\'s limit '
                f"({top.limit} per {top.windowSeconds} seconds)"
            )
