"""Per-day passthrough migration counts (concepts §7.2 "Metrics"; Portcullis extension,
docs/auth.md "Passthrough migration"): how many log-ins asked the old login service,
and how many of them migrated the user, were refused, or found it unavailable — so that
a team can see when the transfer window may close.

Counted per tenant, mode and UTC day with DynamoDB `ADD` (`store/passthroughmetrics`):
in the log-in's own transaction when it writes one (a migration's session or
first-factor token, a new user's creation, an unavailable upstream's refunded
attempt), else with one UpdateItem (a refusal). An
admin reads them with `GET /v0/tenants/{tenantId}/auth/passthrough/metrics`.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from portcullis.platform.errors import BadRequest
from portcullis.store import passthroughmetrics as store
from portcullis.store.transactions import Update

DEFAULT_DAYS = 30
MAX_DAYS = store.KEEP_DAYS
COUNTERS = ("attempts", *store.OUTCOMES)


def tally(mode: str, tenant_id: str, outcome: str | None) -> Update:
    """Today's counts plus one attempt (and its `outcome`): an update for the outcome's
    own transaction, or for `record`."""
    now = time.time()
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    return store.tally(mode, tenant_id, day, outcome, int(now) + store.KEEP_DAYS * 86_400)


def record(mode: str, tenant_id: str, outcome: str | None) -> None:
    """Count one attempt when the outcome writes nothing else."""
    store.record(tally(mode, tenant_id, outcome))


def _day(value: str | None, name: str, default: date) -> date:
    if not value:
        return default
    problem = BadRequest(f'"{name}" must be a date (YYYY-MM-DD)')
    if len(value) != 10:
        raise problem
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise problem from None


def report(mode: str, tenant_id: str, first: str | None, last: str | None) -> dict[str, Any]:
    """The counts of the days from `first` to `last` (UTC, inclusive; default: the last
    30 days up to today), only days with counts listed, and their totals."""
    today = datetime.now(UTC).date()
    end = _day(last, "to", today)
    start = _day(first, "from", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise BadRequest('"from" must not be after "to"')
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f'"from" must be at most {MAX_DAYS} days before "to"')
    listed = []
    totals = dict.fromkeys(COUNTERS, 0)
    for item in store.days(mode, tenant_id, start.isoformat(), end.isoformat()):
        counts = {name: int(getattr(item, name) or 0) for name in COUNTERS}
        for name, value in counts.items():
            totals[name] += value
        listed.append({"date": item.day, **counts})
    return {"from": start.isoformat(), "to": end.isoformat(), "days": listed, "totals": totals}
