"""`parentlimits`: what "exceeds the parent" means, and the clamp."""

from __future__ import annotations

import pytest

from portcullis.tenancy import parentlimits
from portcullis.tenancy.settings import RateLimit, RateLimits


def limit(n: int, window: int) -> RateLimit:
    return RateLimit(limit=n, windowSeconds=window)


@pytest.mark.parametrize(
    ("child", "parent", "exceeds"),
    [
        (limit(200, 2), limit(200, 2), False),
        (limit(100, 2), limit(200, 2), False),
        (limit(201, 2), limit(200, 2), True),  # a larger burst
        (limit(150, 1), limit(200, 2), True),  # a higher rate, smaller burst
        (limit(100, 1), limit(200, 2), False),  # the same rate
        (limit(1, 120), limit(1, 60), False),  # 30/h is below 60/h
        (limit(20, 3600), limit(1, 60), True),  # a lower rate, but a burst of 20
        (limit(2, 60), limit(20, 3600), True),  # 120/h is above 20/h
    ],
)
def test_exceeds(child: RateLimit, parent: RateLimit, exceeds: bool) -> None:
    assert parentlimits.exceeds(child, parent) is exceeds


def test_within_takes_the_parents_limit_for_each_exceeding_one() -> None:
    parent = RateLimits(searchesPerCredential=limit(2, 3600))
    own = RateLimits(requestsPerCredential=limit(10, 2), searchesPerCredential=limit(30, 2))
    clamped = parentlimits.within(own, parent)
    assert clamped.searchesPerCredential == limit(2, 3600)
    assert clamped.requestsPerCredential == limit(10, 2)
    assert parentlimits.within(RateLimits(), RateLimits()) == RateLimits()
