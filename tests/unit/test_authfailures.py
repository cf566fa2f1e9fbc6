"""`authFailuresPerIp` for client tokens: only failures count, 429 past the limit, and
an address known to be over it is answered from memory."""

from __future__ import annotations

import time
import uuid

import pytest

from portcullis.platform.errors import MissingAuthentication, TooManyRequests, Unauthorized
from portcullis.ratelimit import authfailures, fixedwindow
from portcullis.sessions import rotation, tokenauth
from portcullis.tenancy.settings import RateLimit, RateLimits

WINDOW_SECONDS = 300  # the default `authFailuresPerIp` window and the ones used here


@pytest.fixture(autouse=True)
def _inside_one_window() -> None:
    """Counts restart with each fixed window: a test that would straddle a boundary
    waits for the next window to begin instead."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < 20:
        time.sleep(left + 0.1)


def _address() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"


def test_failures_turn_into_429_past_the_limit(aws: str) -> None:
    ip, limit = _address(), RateLimit(limit=3, windowSeconds=300)
    for _ in range(3):
        assert isinstance(authfailures.failed(ip, lambda: limit, Unauthorized()), Unauthorized)
    refused = authfailures.failed(ip, lambda: limit, Unauthorized())
    assert isinstance(refused, TooManyRequests)
    assert 0 < int(refused.headers["Retry-After"]) <= 300


def test_an_address_over_the_limit_is_refused_without_counting(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip, limit = _address(), RateLimit(limit=1, windowSeconds=300)
    authfailures.failed(ip, lambda: limit, Unauthorized())
    assert isinstance(authfailures.failed(ip, lambda: limit, Unauthorized()), TooManyRequests)

    def no_call(*args: object) -> None:
        raise AssertionError("counted again")

    monkeypatch.setattr(fixedwindow, "count", no_call)
    assert isinstance(authfailures.failed(ip, no_call, Unauthorized()), TooManyRequests)


def test_bad_access_tokens_count_but_a_missing_one_does_not(aws: str) -> None:
    ip = _address()
    for _ in range(5):
        with pytest.raises(MissingAuthentication):
            tokenauth.authenticate(None, ip)
    limit = RateLimits().authFailuresPerIp.limit
    for _ in range(limit):
        with pytest.raises(Unauthorized) as failed:
            tokenauth.authenticate("Bearer not-a-token", ip)
        assert not isinstance(failed.value, TooManyRequests)
    with pytest.raises(TooManyRequests):
        tokenauth.authenticate("Bearer not-a-token", ip)
    with pytest.raises(TooManyRequests):
        rotation.refresh("Bearer not-a-token", ip)
    with pytest.raises(TooManyRequests):
        tokenauth.logout("Bearer not-a-token", ip)
    # Another address is not affected.
    with pytest.raises(Unauthorized) as other:
        tokenauth.authenticate("Bearer not-a-token", _address())
    assert not isinstance(other.value, TooManyRequests)
