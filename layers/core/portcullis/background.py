"""Run CPU work while the request thread waits on DynamoDB.

A sign-in's last step is one TransactWriteItems round trip, and its tokens (three RS256
signatures, about a millisecond of CPU) do not depend on the write's answer. Signing
on a worker thread while the request thread sends the transaction and waits for it
hides that millisecond behind the network wait: the request costs max(write, sign)
instead of write + sign. If the write fails, the tokens are simply never returned.

The pool is created on first use (not at import, which would cost every function's
cold start) and has one worker: the work handed over is short and a Lambda instance
serves one request at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portcullis-bg")
        return _pool


def start(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
    """Begin `work` on the worker thread; `.result()` returns its value or re-raises."""
    return _executor().submit(work, *args, **kwargs)
