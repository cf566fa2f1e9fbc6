"""Named, tenant-adjustable limits (settings `rateLimits`) counted in DynamoDB.

Fixed windows: one UpdateItem per counted event. Unknown identifiers are counted
exactly like known ones, so a limit never reveals whether an account exists.
"""

from __future__ import annotations

import hashlib
import time

from portcullis.errors import TooManyRequests
from portcullis.settings import RateLimit
from portcullis.store import ratelimits as store


def _window(limit: RateLimit, at: float) -> tuple[int, int]:
    start = int(at) // limit.windowSeconds * limit.windowSeconds
    return start, start + limit.windowSeconds


def _key(parts: tuple[str, ...]) -> str:
    """Hash identifiers so the table never holds e-mail addresses or IPs in keys."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def hit(name: str, limit: RateLimit, *parts: str, message: str | None = None) -> None:
    """Count one event; raise 429 once the window's count exceeds the limit."""
    at = time.time()
    start, end = _window(limit, at)
    total = store.hit(name, _key(parts), start, end + 60)
    if total > limit.limit:
        raise TooManyRequests(message, retry_after=end - int(at))


def check(name: str, limit: RateLimit, *parts: str, message: str | None = None) -> None:
    """Refuse when the window is already exhausted, without counting (for lockouts)."""
    at = time.time()
    start, end = _window(limit, at)
    if store.current(name, _key(parts), start) >= limit.limit:
        raise TooManyRequests(message, retry_after=end - int(at))


def record(name: str, limit: RateLimit, *parts: str) -> int:
    """Count one event without raising; returns the window's total."""
    start, end = _window(limit, time.time())
    return store.hit(name, _key(parts), start, end + 60)
