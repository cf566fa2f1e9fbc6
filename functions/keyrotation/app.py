"""Scheduled signing-key rotation (docs/keyrotation.md "Scheduled rotation").

An EventBridge schedule (template.yaml, parameter `JwtKeyRotationDays`) invokes this
handler; it gives every tenant, in both modes, whose newest JWT signing key is older
than `JWT_KEY_ROTATION_DAYS` days a new key, with the usual warm-up. 0 turns it off
(the schedule is then disabled too). A run rotates at most `MAX_PER_RUN` tenants: the
rest are still due at the next run, so a large deployment catches up over a few runs
instead of one run outliving its timeout.
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

import os
from typing import Any

from aws_lambda_powertools import Logger

from portcullis.tokens import rotation

logger = Logger(service="portcullis")

MAX_PER_RUN = 200


def _days() -> int:
    try:
        return int(os.environ.get("JWT_KEY_ROTATION_DAYS", "0"))
    except ValueError:
        return 0


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = rotation.rotate_due(_days(), limit=MAX_PER_RUN)
    logger.info(
        "scheduled JWT key rotation",
        extra={"rotated": len(run.rotated), "skipped": len(run.skipped)},
    )
    return {
        "rotated": [{"mode": m, "tenantId": t, "kid": k} for m, t, k in run.rotated],
        "skipped": [{"mode": m, "tenantId": t, "reason": r} for m, t, r in run.skipped],
    }


# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
