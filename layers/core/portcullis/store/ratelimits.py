"""Fixed-window counters in DynamoDB, shared by every Lambda instance, expiring by TTL."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute

from portcullis.store.base import Item


class RateCounter(Item):
    hits = NumberAttribute(default=0)


def hit(name: str, key: str, window_start: int, expires_at: int, amount: int = 1) -> int:
    """Add `amount` to the window's counter and return the new total (one UpdateItem)."""
    counter = RateCounter(f"RATE#{name}#{key}", str(window_start))
    counter.update(
        actions=[
            RateCounter.hits.add(amount),
            RateCounter.type.set("rate"),
            RateCounter.ttl.set(expires_at),
        ]
    )
    return int(counter.hits)


def current(name: str, key: str, window_start: int) -> int:
    try:
        return int(RateCounter.get(f"RATE#{name}#{key}", str(window_start)).hits)
    except RateCounter.DoesNotExist:
        return 0
