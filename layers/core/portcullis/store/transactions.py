"""All-or-nothing writes: one TransactWriteItems call for items and updates of any type.

Generic on purpose: sign-ins, password changes, one-time credentials and outbox
messages all commit through here, so none of them depends on the session store.
"""

from __future__ import annotations

import random
import time
from typing import NamedTuple

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action as Action  # re-exported: callers type their actions
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from portcullis.store.base import Item, connection

CONTENTION_ATTEMPTS = 4


class Update(NamedTuple):
    """An UpdateItem to run inside a transaction (e.g. the user's `lastActiveAt`)."""

    item: Model
    actions: list[Action]
    condition: Condition | None = None


class Delete(NamedTuple):
    """A DeleteItem to run inside a transaction, optionally conditional."""

    item: Model
    condition: Condition | None = None


class WriteConflict(Exception):
    """A condition of the transaction failed; `index` names the failed write."""

    def __init__(self, index: int | None) -> None:
        super().__init__(index)
        self.index = index


def commit(
    saves: list[Item],
    updates: list[Update],
    *,
    save_conditions: dict[int, Condition] | None = None,
    deletes: list[Delete] | None = None,
) -> None:
    """Write items and updates all or nothing (one TransactWriteItems call).

    A transaction DynamoDB cancels because another one touched the same item at that
    moment (two sign-ins of one user) wrote nothing, so it is simply tried again.
    """
    conditions = save_conditions or {}
    for attempt in range(CONTENTION_ATTEMPTS):
        try:
            with TransactWrite(connection=connection()) as tx:
                for index, item in enumerate(saves):
                    tx.save(item, condition=conditions.get(index))
                for update in updates:
                    tx.update(update.item, actions=update.actions, condition=update.condition)
                for delete in deletes or []:
                    tx.delete(delete.item, condition=delete.condition)
            return
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if "ConditionalCheckFailed" in reasons:
                raise WriteConflict(reasons.index("ConditionalCheckFailed")) from exc
            contended = "TransactionConflict" in reasons or exc.cause_response_code in (
                "TransactionConflictException",
                "TransactionInProgressException",
            )
            if not contended or attempt == CONTENTION_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 (jitter)
