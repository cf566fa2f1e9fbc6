"""The batched `requestsPerIp` tally: exact for small limits, amortised for large ones,
bounded overshoot across instances, refusal from memory (no DynamoDB: a fake counter)."""

from __future__ import annotations

import random

import pytest

from portcullis.platform.errors import TooManyRequests
from portcullis.ratelimit.tally import Tally, batch_size
from portcullis.tenancy.settings import RateLimit


class SharedCounter:
    """What DynamoDB does for `store.hit`: ADD and return the new total, per window."""

    def __init__(self) -> None:
        self.totals: dict[tuple[str, str, int], int] = {}
        self.calls: list[int] = []

    def add(self, name: str, key: str, start: int, expires_at: int, amount: int) -> int:
        assert expires_at > start
        self.calls.append(amount)
        slot = (name, key, start)
        self.totals[slot] = self.totals.get(slot, 0) + amount
        return self.totals[slot]


class Clock:
    def __init__(self, now: float = 1_000_040.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _served(tally: Tally, limit: RateLimit, times: int, ip: str = "192.0.2.1") -> int:
    served = 0
    for _ in range(times):
        try:
            tally.count("requestsPerIp", limit, "test", "tenant01", ip)
        except TooManyRequests:
            continue
        served += 1
    return served


def test_batch_size_is_one_twentieth_of_the_limit() -> None:
    assert batch_size(RateLimit(limit=5, windowSeconds=60)) == 1
    assert batch_size(RateLimit(limit=39, windowSeconds=60)) == 1
    assert batch_size(RateLimit(limit=300, windowSeconds=60)) == 15


def test_small_limits_are_exact_and_counted_every_request() -> None:
    counter, clock = SharedCounter(), Clock()
    tally = Tally(counter.add, clock)
    limit = RateLimit(limit=5, windowSeconds=60)
    assert _served(tally, limit, 5) == 5
    with pytest.raises(TooManyRequests) as refused:
        tally.count("requestsPerIp", limit, "test", "tenant01", "192.0.2.1")
    assert counter.calls == [1] * 6
    assert refused.value.headers["Retry-After"] == "40"  # the window is 1_000_020..1_000_080
    assert refused.value.message == "Too many requests"


def test_large_limits_add_every_kth_request() -> None:
    counter = SharedCounter()
    tally = Tally(counter.add, Clock())
    limit = RateLimit(limit=300, windowSeconds=60)
    assert _served(tally, limit, 14) == 14
    assert counter.calls == []
    assert _served(tally, limit, 1) == 1
    assert counter.calls == [15]
    assert _served(tally, limit, 150) == 150
    assert len(counter.calls) == 11  # 165 requests, one addition per 15


def test_one_instance_refuses_exactly_the_request_past_the_limit() -> None:
    counter = SharedCounter()
    tally = Tally(counter.add, Clock())
    limit = RateLimit(limit=300, windowSeconds=60)
    assert _served(tally, limit, 300) == 300
    with pytest.raises(TooManyRequests):
        tally.count("requestsPerIp", limit, "test", "tenant01", "192.0.2.1")
    assert sum(counter.calls) == 301


def test_an_address_over_the_limit_is_refused_from_memory_until_the_window_ends() -> None:
    counter, clock = SharedCounter(), Clock()
    tally = Tally(counter.add, clock)
    limit = RateLimit(limit=3, windowSeconds=60)
    assert _served(tally, limit, 10) == 3
    assert len(counter.calls) == 4  # the 5th..10th never reached DynamoDB
    clock.now += 60
    assert _served(tally, limit, 3) == 3


def test_addresses_tenants_and_limits_are_counted_apart() -> None:
    counter = SharedCounter()
    tally = Tally(counter.add, Clock())
    limit = RateLimit(limit=2, windowSeconds=60)
    assert _served(tally, limit, 5, ip="192.0.2.1") == 2
    assert _served(tally, limit, 2, ip="192.0.2.2") == 2
    tally.count("requestsPerIp", limit, "test", "tenant02", "192.0.2.1")
    tally.count("requestsPerIp", limit, "live", "tenant01", "192.0.2.1")


def test_other_instances_see_the_shared_total_when_they_add() -> None:
    counter = SharedCounter()
    first, second = Tally(counter.add, Clock()), Tally(counter.add, Clock())
    limit = RateLimit(limit=4, windowSeconds=60)
    assert _served(first, limit, 4) == 4
    assert _served(second, limit, 1) == 0


@pytest.mark.parametrize("seed", range(5))
def test_overshoot_across_instances_is_bounded(seed: int) -> None:
    """Requests spread at random over warm instances: at least the limit passes, and at
    most limit + instances × (k - 1) (the bound docs/auth.md states)."""
    rng = random.Random(seed)
    counter = SharedCounter()
    instances = [Tally(counter.add, Clock()) for _ in range(4)]
    limit = RateLimit(limit=300, windowSeconds=60)
    k = batch_size(limit)
    served = sum(_served(rng.choice(instances), limit, 1) for _ in range(2_000))
    assert limit.limit <= served <= limit.limit + len(instances) * (k - 1)
    # ...and about one addition per k requests, not one per request (the refused rest
    # are answered from memory).
    assert len(counter.calls) <= limit.limit // k + 2 * len(instances)


def test_a_failed_addition_keeps_the_tally() -> None:
    counter = SharedCounter()
    failing = {"on": True}

    def add(*args: object) -> int:
        if failing["on"]:
            raise RuntimeError("throttled")
        return counter.add(*args)  # type: ignore[arg-type]

    tally = Tally(add, Clock())
    limit = RateLimit(limit=2, windowSeconds=60)
    with pytest.raises(RuntimeError):
        tally.count("requestsPerIp", limit, "test", "tenant01", "192.0.2.1")
    failing["on"] = False
    tally.count("requestsPerIp", limit, "test", "tenant01", "192.0.2.1")
    assert counter.calls == [2]


def test_memory_is_bounded() -> None:
    counter = SharedCounter()
    tally = Tally(counter.add, Clock(), max_keys=10)
    limit = RateLimit(limit=300, windowSeconds=60)
    for n in range(50):
        tally.count("requestsPerIp", limit, "test", "tenant01", f"192.0.2.{n}")
    assert len(tally._entries) <= 10
