"""portcullis.platform.background: work handed to the worker thread comes back, errors included."""

from __future__ import annotations

import threading

import pytest

from portcullis.platform import background


def test_result_comes_back_from_another_thread() -> None:
    caller = threading.get_ident()
    future = background.start(lambda a, b=0: (a + b, threading.get_ident()), 2, b=3)
    total, worker = future.result(timeout=5)
    assert total == 5
    assert worker != caller


def test_errors_are_raised_by_result() -> None:
    def fail() -> None:
        raise ValueError("boom")

    future = background.start(fail)
    with pytest.raises(ValueError, match="boom"):
        future.result(timeout=5)


def test_the_pool_is_made_once() -> None:
    background.start(int).result(timeout=5)
    first = background._executor()
    assert background._executor() is first
