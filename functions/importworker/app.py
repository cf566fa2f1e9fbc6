"""Import worker: applies user imports (api-server §10.2) from the import queue.

Trigger (template.yaml): the `ImportQueue` SQS queue, fed by the imports function
(`process`) and by this function itself (an upload's split queues one message per
chunk). Each message is handled by `portcullis.imports.worker`; a message it cannot
handle (an exception) is reported as a batch item failure, so SQS delivers it again and,
after five receives, moves it to the dead-letter queue (the job is marked `failed`).
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from aws_lambda_powertools import Logger

from portcullis.imports import worker
from portcullis.platform import sqsbatch

logger = Logger(service="portcullis")


def _handle(record: dict[str, Any]) -> str:
    receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
    return worker.handle(str(record.get("body", "")), receives)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Messages of one batch are handled one after another: each chunk's rows already
    keep DynamoDB busy, and a batch is small (template: BatchSize 2)."""
    return sqsbatch.failures(
        sqsbatch.settle(record, _handle, "import", logger) for record in sqsbatch.records(event)
    )


# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
