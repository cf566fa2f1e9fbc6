"""Batched counting of a shared fixed-window limit: hot read paths stay at one call.

Why: `requestsPerIp` covers reads such as `GET /v0/self`, whose whole budget is one
DynamoDB call. Counting each request exactly would double that. Instead each Lambda
instance tallies requests per key in memory and adds them to the shared DynamoDB
counter (`ADD n`, one UpdateItem that returns the window's total) on every k-th
request of that key, with k = max(1, limit // `BATCH_DIVISOR`):

- cost: one extra UpdateItem per k counted requests per instance (with the default
  300/min, k = 15: +1/15 call per request, amortised);
- exactness: k = 1 for limits under 2 × `BATCH_DIVISOR`, so small limits are exact;
  an instance also adds its tally as soon as its own tally plus the last total it saw
  would pass the limit, so a single instance refuses exactly the (limit + 1)-th request;
- overshoot: an instance lets through at most k - 1 requests it has not added yet, so
  with several warm instances serving the same key at most limit + instances × (k - 1)
  requests pass per window (about 5 % of the limit per instance); a tally still pending
  when its window ends or when its key is evicted is never added (within the same
  bound);
- refusal: once a total over the limit is seen, the key is refused from memory, with no
  call at all, until its window ends.

Instances do not share memory, so this is a per-instance amortisation of one shared
counter, never a per-instance limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from portcullis.platform.errors import TooManyRequests
from portcullis.ratelimit import fixedwindow
from portcullis.store import ratelimits as store
from portcullis.tenancy.settings import RateLimit

BATCH_DIVISOR = 20
MAX_KEYS = 10_000

# (name, hashed key, window start, expires at, amount) -> the window's new total
AddFunction = Callable[[str, str, int, int, int], int]


def batch_size(limit: RateLimit) -> int:
    return max(1, limit.limit // BATCH_DIVISOR)


@dataclass
class _Entry:
    start: int
    pending: int = 0  # counted here, not yet added to the shared counter
    seen: int = 0  # the shared total at this instance's last addition
    over: bool = False  # the shared total passed the limit in this window


class Tally:
    """The in-memory side of batched counters (one per Lambda instance)."""

    def __init__(
        self,
        add: AddFunction = store.hit,
        clock: Callable[[], float] = time.time,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self._add = add
        self._clock = clock
        self._max_keys = max_keys
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def count(self, name: str, limit: RateLimit, *parts: str, message: str | None = None) -> None:
        """Count one request; 429 with Retry-After once the shared total passes `limit`."""
        at = self._clock()
        start, end = fixedwindow.window(limit, at)
        hashed = fixedwindow.key(*parts)
        refused = TooManyRequests(message, retry_after=end - int(at))
        with self._lock:
            entry = self._entry((name, hashed), start)
            if entry.over:
                raise refused
            entry.pending += 1
            if entry.pending < batch_size(limit) and entry.seen + entry.pending <= limit.limit:
                return
            amount, entry.pending = entry.pending, 0
        try:
            total = self._add(name, hashed, start, end + fixedwindow.EXPIRY_MARGIN_SECONDS, amount)
        except Exception:
            with self._lock:
                entry.pending += amount  # not added: keep it for the next addition
            raise
        with self._lock:
            entry.seen = max(entry.seen, total)
            entry.over = entry.over or total > limit.limit
        if total > limit.limit:
            raise refused

    def _entry(self, slot: tuple[str, str], start: int) -> _Entry:
        entry = self._entries.get(slot)
        if entry is None or entry.start != start:
            if entry is None and len(self._entries) >= self._max_keys:
                self._evict(start)
            entry = self._entries[slot] = _Entry(start)
        return entry

    def _evict(self, start: int) -> None:
        """Drop tallies of ended windows; if none ended, the oldest half (their pending
        requests are never added: counted in the overshoot bound above)."""
        stale = [slot for slot, entry in self._entries.items() if entry.start < start]
        if not stale:
            stale = list(self._entries)[: max(1, len(self._entries) // 2)]
        for slot in stale:
            del self._entries[slot]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_shared = Tally()


def count(name: str, limit: RateLimit, *parts: str, message: str | None = None) -> None:
    """Count one request on this instance's tally (see the module docstring)."""
    _shared.count(name, limit, *parts, message=message)


def forget() -> None:
    """Drop this instance's tallies (tests that count DynamoDB calls of one request)."""
    _shared.clear()
