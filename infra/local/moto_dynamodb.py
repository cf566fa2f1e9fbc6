"""A linear-time `TransactWriteItems` and a direct JSON answer for moto's DynamoDB.

moto 5.2.5 deep-copies every table a transaction touches before applying it (to roll
back on failure). With one table holding everything, each transaction costs time and
memory proportional to the whole table: a test suite of a few thousand writes slows to
minutes per request and grows to gigabytes. The local runtime serialises DynamoDB calls,
so a transaction can instead check every condition first, then snapshot only the items
it writes and restore just those if applying fails. The result is the same all-or-
nothing behaviour, cancellation reasons included.

moto 5.2 also serialises every answer by walking botocore's output shape value by value
(`moto.core.serialize`). For the item operations that walk costs more than the operation
itself: about a third of the local runtime's CPU time in the test suite went there. Their
results are already DynamoDB JSON (moto builds them with `dynamo_to_dict`), so they are
written with `json.dumps` instead; binary values, which moto keeps as bytes, become base64
as the shape-driven serialiser would make them. Errors and every other operation keep
moto's serialiser. `tests/unit/test_moto_dynamodb.py` compares both on the same results.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections.abc import Mapping
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import get_service_model
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

_OPS = {"ConditionCheck", "Put", "Delete", "Update"}


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _check(backend: DynamoDBBackend, op: dict[str, Any], key: dict[str, Any]) -> tuple[Any, ...]:
    """Evaluate one operation's condition against the current state (no write)."""
    expression = op.get("ConditionExpression")
    if expression is None:
        return (None, None, None)
    current = backend.get_item(op["TableName"], key)
    condition = get_filter_expression(
        expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if condition.expr(current):
        return (None, None, None)
    old = None
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
        old = current.to_json()["Attributes"]
    return ("ConditionalCheckFailed", "The conditional request failed", old)


def _apply(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    table = op["TableName"]
    expression = {
        "expression_attribute_names": op.get("ExpressionAttributeNames"),
        "expression_attribute_values": op.get("ExpressionAttributeValues"),
    }
    if op_type == "Put":
        backend.put_item(table, op["Item"], **expression)
    elif op_type == "Delete":
        backend.delete_item(table, key, **expression)
    elif op_type == "Update":
        backend.update_item(table, key, update_expression=op["UpdateExpression"], **expression)


def _restore(backend: DynamoDBBackend, snapshots: list[tuple[str, dict[str, Any], Any]]) -> None:
    for table_name, key, before in reversed(snapshots):
        if before is None:
            if backend.get_item(table_name, key) is not None:
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, before.to_json()["Attributes"])


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    plan: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in _OPS:
            raise MockValidationException("Unsupported transaction operation")
        key = _key(self, op_type, op)
        identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        plan.append((op_type, op, key))

    reasons = [_check(self, op, key) for _, op, key in plan]
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)

    snapshots: list[tuple[str, dict[str, Any], Any]] = []
    for index, (op_type, op, key) in enumerate(plan):
        if op_type == "ConditionCheck":
            continue
        snapshots.append((op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key))))
        try:
            _apply(self, op_type, op, key)
        except MockValidationException:
            _restore(self, snapshots)
            raise
        except Exception as error:  # same shape as moto: the failure becomes a reason
            _restore(self, snapshots)
            failed = [(None, None, None)] * len(plan)
            failed[index] = (type(error).__name__, str(error), None)
            raise TransactionCanceledException(failed) from error


# Operations whose successful result holds only items, keys, counts and capacity.
ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
_shape_serialized = DynamoHandler.serialized


@functools.cache
def _output_members(operation: str) -> frozenset[str]:
    """The top-level names the operation's answer may carry (moto's results hold extras)."""
    shape = get_service_model("dynamodb").operation_model(operation).output_shape
    return frozenset(shape.members) if shape is not None else frozenset()


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def serialized(self: DynamoHandler, action_result: ActionResult) -> tuple[int, dict[str, Any], str]:
    result = action_result.result
    if not isinstance(result, Mapping) or self._get_action() not in ITEM_OPERATIONS:
        return _shape_serialized(self, action_result)  # type: ignore[no-any-return]
    members = _output_members(self._get_action())
    answer = {name: value for name, value in result.items() if name in members}
    body = json.dumps(answer, default=_json_value, separators=(",", ":"))
    headers: dict[str, Any] = {"Content-Type": JSON_CONTENT_TYPE}
    headers.update(self.response_headers)
    return 200, headers, body


def install() -> None:
    """Replace moto's implementation for this process (the local runtime's moto)."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoHandler.serialized = serialized  # type: ignore[method-assign]
