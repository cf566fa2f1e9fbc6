"""Webhook delivery: POSTs the events an EventBridge rule put on the webhook queue.

Trigger (template.yaml): the `WebhookQueue` SQS queue, fed by the `WebhookEventsRule`
(every `user.*`, `tenant.*` and `session.*` event) and by this function itself, which
queues each retry as a delayed message (portcullis/webhooks/delivery.py). A receiver's
failure is recorded on the delivery and retried on the schedule; only a message this
function cannot process at all (an exception) is reported as a batch item failure, so
SQS tries it again and, after five receives, moves it to the dead-letter queue.
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger

from portcullis.platform import sqsbatch
from portcullis.webhooks import delivery

logger = Logger(service="portcullis")


def _process(record: dict[str, Any]) -> str | None:
    """The message id when the message could not be processed (SQS tries it again)."""
    return sqsbatch.settle(
        record, lambda r: delivery.handle_message(str(r.get("body", ""))), "webhook", logger
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The batch's POSTs run side by side: each waits on a receiver (up to 10 s), so a
    batch takes as long as its slowest receiver, not the sum of them."""
    records = sqsbatch.records(event)
    if len(records) <= 1:
        failed = [_process(record) for record in records]
    else:
        with ThreadPoolExecutor(max_workers=len(records)) as pool:
            failed = list(pool.map(_process, records))
    return sqsbatch.failures(failed)


# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
