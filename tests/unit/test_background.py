"""portcullis.platform.background: work runs on a worker thread of one lazily made pool.

That `.result()` re-raises the work's error is `concurrent.futures` behaviour, not ours,
and is not tested here."""

from __future__ import annotations

import threading

from portcullis.platform import background


def test_result_comes_back_from_another_thread() -> None:
    caller = threading.get_ident()
    future = background.start(lambda a, b=0: (a + b, threading.get_ident()), 2, b=3)
    total, worker = future.result(timeout=5)
    assert total == 5
    assert worker != caller


def test_the_pool_is_made_once() -> None:
    background.start(int).result(timeout=5)
    first = background._executor()
    assert background._executor() is first
