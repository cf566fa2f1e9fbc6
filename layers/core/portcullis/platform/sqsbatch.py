"""SQS batches of the queue-fed functions (import worker, webhook delivery): each record
handled on its own and reported back as a partial batch failure, so SQS delivers again
only the messages that failed (ReportBatchItemFailures in template.yaml)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools import Logger


def records(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's records (anything that is not a record object is ignored)."""
    return [r for r in event.get("Records") or [] if isinstance(r, dict)]


def settle(
    record: dict[str, Any], handle: Callable[[dict[str, Any]], Any], what: str, logger: Logger
) -> str | None:
    """Run `handle(record)`: the message id when it raised (SQS delivers it again, and
    after the queue's receive limit moves it to the dead-letter queue), else None. Both
    outcomes are logged with the message id; an exception never escapes, so one bad
    message does not fail its whole batch."""
    message_id = str(record.get("messageId", ""))
    try:
        outcome = handle(record)
    except Exception:
        logger.exception(f"{what} message not processed", extra={"messageId": message_id})
        return message_id
    logger.info(f"{what} message processed", extra={"messageId": message_id, "outcome": outcome})
    return None


def failures(failed: Iterable[str | None]) -> dict[str, Any]:
    """The partial batch response: the ids of the messages that failed."""
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed if m is not None]}
