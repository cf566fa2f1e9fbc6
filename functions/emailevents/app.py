"""SES bounce and complaint events (SES configuration set -> SNS topic -> here).

Marks each reported address so that sends to it stop, and the user with it
(`emailStatus`): portcullis/users/emailstatus.py. Locally, `POST /_local/ses/bounce`
invokes this same handler with an SNS-shaped event.
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from aws_lambda_powertools import Logger

from portcullis.users import emailstatus

logger = Logger(service="portcullis")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records")
    marked = emailstatus.handle_sns_records(records if isinstance(records, list) else [])
    logger.info("SES events applied", extra={"marked": marked})
    return {"marked": marked}


# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
