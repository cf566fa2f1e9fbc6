"""Asynchronous invocations: EventBridge rule targets, SQS event sources, async Invoke.

In AWS these run outside the request that caused them, so here they run on worker
threads: a slow webhook delivery never holds up the API response, as in production.
Failed invocations are retried twice with a short back-off, the way Lambda retries an
asynchronous invocation (with seconds instead of minutes so a local run stays snappy).
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.local.lambdas import LocalFunction, report_failure

log = logging.getLogger(__name__)

ASYNC_RETRY_DELAYS = (1.0, 2.0)
# Lambda's SQS event source polls a queue with several pollers at once (five to start
# with), so batches of one queue are processed side by side; a few do it here.
POLLERS_PER_QUEUE = 3
# Long polls, as Lambda's pollers do: moto answers as soon as a message arrives, and an idle
# runtime makes one request per poller every few seconds instead of every second.
POLL_WAIT_SECONDS = 5
STOP_WAIT_SECONDS = 1.0


@dataclass
class _Invocation:
    function_id: str
    event: Any
    description: str
    attempt: int = 0


class AsyncInvoker:
    """A small pool that invokes functions in the background and retries failures."""

    def __init__(
        self,
        functions: Mapping[str, LocalFunction],
        after_invoke: Callable[[], None],
        workers: int = 4,
    ) -> None:
        self._functions = functions
        self._after_invoke = after_invoke
        self._queue: queue.Queue[_Invocation | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._work, name=f"local-async-{n}", daemon=True)
            for n in range(workers)
        ]
        self._timers: set[threading.Timer] = set()
        self._timers_lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, function_id: str, event: Any, description: str) -> None:
        if not self._stopping.is_set():
            self._queue.put(_Invocation(function_id, event, description))

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued (retries still waiting are dropped), then stop the workers."""
        self._stopping.set()
        with self._timers_lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._run(item)
            finally:
                self._queue.task_done()

    def _run(self, item: _Invocation) -> None:
        function = self._functions.get(item.function_id)
        if function is None:
            log.warning("async invocation for unknown function %s dropped", item.function_id)
            return
        try:
            function.invoke(item.event)
        except Exception as error:
            report_failure(
                f"async invocation of {item.function_id} ({item.description}) "
                f"failed (attempt {item.attempt + 1})",
                error,
            )
            self._retry(item)
        finally:
            self._after_invoke()

    def _retry(self, item: _Invocation) -> None:
        if item.attempt >= len(ASYNC_RETRY_DELAYS) or self._stopping.is_set():
            return
        retry = _Invocation(item.function_id, item.event, item.description, item.attempt + 1)

        def resubmit() -> None:
            with self._timers_lock:
                self._timers.discard(timer)
            if not self._stopping.is_set():
                self._queue.put(retry)

        timer = threading.Timer(ASYNC_RETRY_DELAYS[item.attempt], resubmit)
        timer.daemon = True
        with self._timers_lock:
            self._timers.add(timer)
        timer.start()


@dataclass(frozen=True)
class QueueSource:
    """An SQS queue feeding a function, resolved to local names."""

    function_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


class QueuePoller:
    """Polls SQS queues and invokes their functions like Lambda's event source mapping."""

    def __init__(
        self,
        sources: list[QueueSource],
        functions: Mapping[str, LocalFunction],
        sqs_client: Any,
        region: str,
        after_invoke: Callable[[], None],
    ) -> None:
        self._sources = sources
        self._functions = functions
        self._sqs = sqs_client
        self._region = region
        self._after_invoke = after_invoke
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._poll, args=(source,), name=f"local-sqs-{n}-{k}", daemon=True
            )
            for n, source in enumerate(sources)
            for k in range(POLLERS_PER_QUEUE)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Waits briefly for pollers between polls; one still in a long poll is a daemon
        thread that returns when its poll ends, delivering nothing after the stop."""
        self._stopping.set()
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _poll(self, source: QueueSource) -> None:
        while not self._stopping.is_set():
            try:
                received = self._sqs.receive_message(
                    QueueUrl=source.queue_url,
                    MaxNumberOfMessages=max(1, min(source.batch_size, 10)),
                    WaitTimeSeconds=POLL_WAIT_SECONDS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("polling %s failed", source.queue_url)
                self._stopping.wait(1.0)
                continue
            messages = received.get("Messages") or []
            if messages and not self._stopping.is_set():
                self._deliver(source, messages)

    def _deliver(self, source: QueueSource, messages: list[dict[str, Any]]) -> None:
        function = self._functions.get(source.function_id)
        if function is None:
            return
        event = {
            "Records": [sqs_record(message, source.queue_arn, self._region) for message in messages]
        }
        failed: set[str] = set()
        try:
            result = function.invoke(event)
        except Exception as error:
            report_failure(f"{source.function_id} failed on an SQS batch", error)
            failed = {message["MessageId"] for message in messages}
        else:
            if source.report_batch_item_failures and isinstance(result, dict):
                failed = {f.get("itemIdentifier") for f in result.get("batchItemFailures") or []}
        finally:
            self._after_invoke()
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(done[start : start + 10])
                ],
            )


def _base64(value: Any) -> str | None:
    """Lambda's SQS records carry binary attributes base64-encoded; boto3 returns bytes."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message in the shape of Lambda's SQS event record."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": _base64(value.get("BinaryValue")),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": message.get("Attributes") or {},
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
