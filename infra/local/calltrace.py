"""Which AWS calls one request made: `GET /_local/calls?requestId=...` (local only).

Tests use it to compare what two requests do (e.g. a reset link for a known and for an
unknown address must make the same DynamoDB calls, issue 8 item 7) without timing
anything. Every botocore client call (pynamodb goes through botocore clients too) made
on the thread that runs the function, while `recording(request_id)` is active, is
appended as "service:Operation"; calls of worker threads and of the outbox drain are
not attributed to the request. The last `MAX_REQUESTS` requests are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

MAX_REQUESTS = 1000

_current: ContextVar[list[str] | None] = ContextVar("portcullis_local_calls", default=None)
_lock = threading.Lock()
_traces: OrderedDict[str, list[str]] = OrderedDict()
_installed = False


def install() -> None:
    """Wrap `botocore.client.BaseClient._make_api_call` once (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from botocore.client import BaseClient

        original = BaseClient._make_api_call

        def traced(self: Any, operation_name: str, api_params: Any) -> Any:
            calls = _current.get()
            if calls is not None:
                service = self.meta.service_model.service_name
                calls.append(f"{service}:{operation_name}")
            return original(self, operation_name, api_params)

        BaseClient._make_api_call = traced  # type: ignore[method-assign]
        _installed = True


@contextmanager
def recording(request_id: str) -> Iterator[None]:
    """Attribute the calls made on this thread inside the block to `request_id`."""
    calls: list[str] = []
    with _lock:
        _traces[request_id] = calls
        while len(_traces) > MAX_REQUESTS:
            _traces.popitem(last=False)
    token = _current.set(calls)
    try:
        yield
    finally:
        _current.reset(token)


def calls_of(request_id: str) -> list[str] | None:
    with _lock:
        found = _traces.get(request_id)
        return list(found) if found is not None else None
