"""Overlap independent work with a DynamoDB round trip.

A request thread waiting on DynamoDB holds no CPU, so work that does not depend on the
answer can run meanwhile on a worker thread:

- a sign-in's tokens (three RS256 signatures, about a millisecond of CPU) are signed
  while its session TransactWriteItems is on the wire: the request costs
  max(write, sign) instead of write + sign; if the write fails, the tokens are simply
  never returned;
- a password log-in's attempt counter (UpdateItem, keyed by the account the lookup
  found) is on the wire while the password is verified (argon2id, CPU): the request
  costs max(count, verify) instead of count + verify.

Only I/O waits are overlapped, never two CPU-bound steps (a Lambda function below
1,769 MB has less than one vCPU, so those would only take turns).

The pool is created on first use (not at import, which would cost every function's
cold start). A Lambda instance serves one request at a time, so it uses one worker
thread; `MAX_WORKERS` lets the local runtime, which serves requests concurrently in
one process, overlap several requests' work without queueing them behind each other.
Work handed over must never wait on other background work (it could wait on itself).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

MAX_WORKERS = 4

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="portcullis-bg")
        return _pool


def start(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
    """Begin `work` on a worker thread; `.result()` returns its value or re-raises."""
    return _executor().submit(work, *args, **kwargs)
