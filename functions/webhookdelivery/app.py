"""Webhook delivery: POSTs the events an EventBridge rule put on the webhook queue.

Trigger (template.yaml): the `WebhookQueue` SQS queue, fed by the `WebhookEventsRule`
(every `user.*`, `tenant.*` and `session.*` event) and by this function itself, which
queues each retry as a delayed message (portcullis/webhooks/delivery.py). A receiver's
failure is recorded on the delivery and retried on the schedule; only a message this
function cannot process at all (an exception) is reported as a batch item failure, so
SQS tries it again and, after five receives, moves it to the dead-letter queue.
"""

import gc
from typing import Any

from aws_lambda_powertools import Logger

from portcullis.webhooks import delivery

logger = Logger(service="portcullis")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures: list[dict[str, str]] = []
    for record in event.get("Records") or []:
        message_id = str(record.get("messageId", ""))
        try:
            outcome = delivery.handle_message(str(record.get("body", "")))
        except Exception:
            logger.exception("webhook message not processed", extra={"messageId": message_id})
            failures.append({"itemIdentifier": message_id})
            continue
        logger.info(
            "webhook message processed", extra={"messageId": message_id, "outcome": outcome}
        )
    return {"batchItemFailures": failures}


# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
