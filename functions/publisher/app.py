"""Outbox publisher: sends the events, emails and SMS that committed changes wrote.

Two triggers (template.yaml):
- the table's DynamoDB stream, filtered to newly inserted `type = outbox` items, so a
  message goes out within a second of its change committing;
- a schedule (every minute) that sends whatever is due again: items whose first
  attempt failed and now wait for their retry time (portcullis/messaging/outbox.py).

A send that fails is recorded on the item for a later retry instead of failing the
batch, so one undeliverable message never holds up the stream behind it.
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from aws_lambda_powertools import Logger

from portcullis.messaging import outbox

logger = Logger(service="portcullis")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records")
    if isinstance(records, list):
        sent = outbox.publish_stream_records(records)
        logger.info("stream batch published", extra={"records": len(records), "sent": sent})
        return {"sent": sent}
    sent = outbox.drain_pending(limit=500)
    logger.info("due outbox items published", extra={"sent": sent})
    return {"sent": sent}


# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
