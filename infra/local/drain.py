"""Calling the core's transactional-outbox publisher, which AWS runs from the table stream.

Locally there is no stream, so the runtime drains the outbox itself: right after every
invocation (before the HTTP response is written, so a test that reads `/_local/outbox`
straight after a request sees the email) and periodically as a safety net. Drains are
serialised with a lock, as a stream shard has one consumer: two concurrent drains could
otherwise both pick up the same item and send it twice.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import traceback
from collections.abc import Callable

OUTBOX_MODULE = "portcullis.messaging.outbox"
DRAIN_FUNCTION = "drain_pending"


def _find_drain(module_name: str) -> Callable[[], object] | None:
    """The publisher, if the core provides one yet (it is developed alongside this runtime)."""
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
    except ModuleNotFoundError:
        return None
    module = importlib.import_module(module_name)
    drain = getattr(module, DRAIN_FUNCTION, None)
    return drain if callable(drain) else None


class OutboxDrainer:
    """Serialised, failure-tolerant calls to `portcullis.messaging.outbox.drain_pending()`."""

    def __init__(self, module: str = OUTBOX_MODULE, enabled: bool = True) -> None:
        self._lock = threading.Lock()
        self._module = module
        self._enabled = enabled
        self._drain: Callable[[], object] | None = None
        self._looked_up = False

    @property
    def active(self) -> bool:
        """A drain is running (its DynamoDB calls are the runtime's, not a request's)."""
        return self._lock.locked()

    def __call__(self) -> None:
        """Drain now; a failing publisher is reported and never fails the caller."""
        if not self._enabled:
            return
        with self._lock:
            if not self._looked_up:
                self._looked_up = True
                try:
                    self._drain = _find_drain(self._module)
                except Exception as error:
                    print(
                        "[portcullis-local] importing the outbox publisher failed:", file=sys.stderr
                    )
                    traceback.print_exception(error, file=sys.stderr)
            if self._drain is None:
                return
            try:
                self._drain()
            except Exception as error:
                print("[portcullis-local] draining the outbox failed:", file=sys.stderr)
                traceback.print_exception(error, file=sys.stderr)
