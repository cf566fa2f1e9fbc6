"""Named, tenant-adjustable limits (settings `rateLimits`) counted in DynamoDB.

Fixed windows: one UpdateItem per counted event. Unknown identifiers are counted
exactly like known ones, so a limit never reveals whether an account exists.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, NamedTuple

from portcullis.platform.errors import TooManyRequests
from portcullis.store import ratelimits as store
from portcullis.tenancy.settings import RateLimit

if TYPE_CHECKING:
    from portcullis.store.transactions import Update

# Counters outlive their window by this much, so a late reader still finds them.
EXPIRY_MARGIN_SECONDS = 60


def window(limit: RateLimit, at: float) -> tuple[int, int]:
    """The fixed window holding `at`: (start, end) in epoch seconds."""
    start = int(at) // limit.windowSeconds * limit.windowSeconds
    return start, start + limit.windowSeconds


def key(*parts: str) -> str:
    """Hash identifiers so the table never holds e-mail addresses or IPs in keys."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class Count(NamedTuple):
    """One counted event: the window's total after it, and what a refund needs."""

    name: str
    key: str
    limit: RateLimit
    total: int
    start: int
    end: int
    at: int

    @property
    def exceeded(self) -> bool:
        return self.total > self.limit.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit.limit - self.total)

    @property
    def retry_after(self) -> int:
        return self.end - self.at

    def refund(self) -> Update:
        """The update that takes this event back, for a caller's own transaction (a
        successful sign-in refunds its attempt without an extra call)."""
        return store.refund(self.name, self.key, self.start, self.end + EXPIRY_MARGIN_SECONDS)


def count(name: str, limit: RateLimit, *parts: str) -> Count:
    """Count one event (one UpdateItem) and return the window's total; never raises."""
    at = time.time()
    start, end = window(limit, at)
    hashed = key(*parts)
    total = store.hit(name, hashed, start, end + EXPIRY_MARGIN_SECONDS)
    return Count(name, hashed, limit, total, start, end, int(at))


def hit(name: str, limit: RateLimit, *parts: str, message: str | None = None) -> Count:
    """Count one event; raise 429 once the window's count exceeds the limit."""
    counted = count(name, limit, *parts)
    if counted.exceeded:
        raise TooManyRequests(message, retry_after=counted.retry_after)
    return counted


def check(name: str, limit: RateLimit, *parts: str, message: str | None = None) -> None:
    """Refuse when the window is already exhausted, without counting (for lockouts)."""
    at = time.time()
    start, end = window(limit, at)
    if store.current(name, key(*parts), start) >= limit.limit:
        raise TooManyRequests(message, retry_after=end - int(at))


def record(name: str, limit: RateLimit, *parts: str) -> int:
    """Count one event without raising; returns the window's total."""
    return count(name, limit, *parts).total
