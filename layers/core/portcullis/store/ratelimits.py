"""Fixed-window counters in DynamoDB, shared by every Lambda instance, expiring by TTL."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute

from portcullis.store.base import Item
from portcullis.store.transactions import Update


class RateCounter(Item):
    hits = NumberAttribute(default=0)


def _counter(name: str, key: str, window_start: int) -> RateCounter:
    return RateCounter(f"RATE#{name}#{key}", str(window_start))


def hit(name: str, key: str, window_start: int, expires_at: int, amount: int = 1) -> int:
    """Add `amount` to the window's counter and return the new total (one UpdateItem)."""
    counter = _counter(name, key, window_start)
    counter.update(
        actions=[
            RateCounter.hits.add(amount),
            RateCounter.type.set("rate"),
            RateCounter.ttl.set(expires_at),
        ]
    )
    return int(counter.hits)


def refund(name: str, key: str, window_start: int, expires_at: int) -> Update:
    """Take one event back, as an update for a transaction the caller writes anyway."""
    return Update(
        _counter(name, key, window_start),
        [
            RateCounter.hits.add(-1),
            RateCounter.type.set("rate"),
            RateCounter.ttl.set(expires_at),
        ],
    )


def current(name: str, key: str, window_start: int) -> int:
    try:
        return int(RateCounter.get(f"RATE#{name}#{key}", str(window_start)).hits)
    except RateCounter.DoesNotExist:
        return 0
