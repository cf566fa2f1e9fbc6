"""The local runtime's moto changes keep DynamoDB's semantics: the linear-time
TransactWriteItems, and item operations answered with `json.dumps` instead of moto's
shape-driven serialiser (compared with it on every answer below)."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local import moto_dynamodb
from portcullis.store.schema import table_definition


@pytest.fixture
def dynamodb(aws: str) -> Iterator[Any]:
    """A throw-away table on the session's moto server (never `mock_aws`: leaving it
    resets every in-process moto backend, the session server's included)."""
    original = moto_dynamodb.DynamoDBBackend.transact_write_items
    original_serialized = moto_dynamodb.DynamoHandler.serialized
    moto_dynamodb.install()
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=aws)
    client.create_table(**table_definition("t", stream=False))
    try:
        yield client
    finally:
        client.delete_table(TableName="t")
        moto_dynamodb.DynamoDBBackend.transact_write_items = original
        moto_dynamodb.DynamoHandler.serialized = original_serialized


def put(pk: str, condition: bool = True, **extra: Any) -> dict:
    op: dict[str, Any] = {"TableName": "t", "Item": {"pk": {"S": pk}, "sk": {"S": "x"}, **extra}}
    if condition:
        op["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": op}


def get(client: Any, pk: str) -> dict | None:
    return client.get_item(TableName="t", Key={"pk": {"S": pk}, "sk": {"S": "x"}}).get("Item")


def test_all_writes_commit_together(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put("a"), put("b")])
    assert get(dynamodb, "a") and get(dynamodb, "b")


def test_a_failed_condition_writes_nothing_and_names_the_reason(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put("taken")])
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[put("fresh"), put("taken")])
    reasons = caught.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert get(dynamodb, "fresh") is None


def test_condition_checks_and_updates(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put("counter", n={"N": "1"})])
    update = {
        "Update": {
            "TableName": "t",
            "Key": {"pk": {"S": "counter"}, "sk": {"S": "x"}},
            "UpdateExpression": "ADD n :one",
            "ConditionExpression": "n < :limit",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": "2"}},
        }
    }
    dynamodb.transact_write_items(TransactItems=[update])
    assert get(dynamodb, "counter")["n"] == {"N": "2"}
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[update, put("other")])
    assert get(dynamodb, "counter")["n"] == {"N": "2"}
    assert get(dynamodb, "other") is None


def test_a_failure_while_applying_restores_earlier_writes(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put("existing", v={"S": "before"})])
    bad_update = {
        "Update": {
            "TableName": "t",
            "Key": {"pk": {"S": "existing2"}, "sk": {"S": "x"}},
            "UpdateExpression": "ADD v :one",
            "ExpressionAttributeValues": {":one": {"S": "not a number"}},
        }
    }
    overwrite = put("existing", condition=False, v={"S": "after"})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[overwrite, put("new"), bad_update])
    assert get(dynamodb, "existing")["v"] == {"S": "before"}
    assert get(dynamodb, "new") is None


def test_the_same_item_twice_is_a_validation_error(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[put("dup"), put("dup")])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert get(dynamodb, "dup") is None


def test_item_answers_match_motos_own_serialiser(dynamodb: Any) -> None:
    """Every item operation's direct JSON equals what moto's serialiser writes for the
    same result: strings, numbers, binary and sets of each, maps, lists, booleans, nulls,
    paging keys, consumed capacity, old values and transactions."""
    compared: list[str] = []

    def both(handler: Any, action_result: Any) -> Any:
        fast = moto_dynamodb.serialized(handler, action_result)
        if handler._get_action() in moto_dynamodb.ITEM_OPERATIONS:
            status, headers, body = moto_dynamodb._shape_serialized(handler, action_result)
            assert fast[0] == status
            assert fast[1]["Content-Type"] == headers["Content-Type"]
            assert json.loads(fast[2]) == json.loads(body), handler._get_action()
            compared.append(handler._get_action())
        return fast

    moto_dynamodb.DynamoHandler.serialized = both
    key = {"pk": {"S": "rich"}, "sk": {"S": "x"}}
    rich = {
        **key,
        "s": {"S": "text é"},
        "n": {"N": "12.50"},
        "b": {"B": b"\x00\xffbinary"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "m": {"M": {"inner": {"L": [{"S": "x"}, {"N": "3"}, {"BOOL": True}, {"NULL": True}]}}},
    }
    dynamodb.put_item(TableName="t", Item=rich, ReturnConsumedCapacity="TOTAL")
    dynamodb.get_item(TableName="t", Key=key)
    dynamodb.get_item(TableName="t", Key={"pk": {"S": "missing"}, "sk": {"S": "x"}})
    dynamodb.update_item(
        TableName="t",
        Key=key,
        UpdateExpression="SET s = :s",
        ExpressionAttributeValues={":s": {"S": "changed"}},
        ReturnValues="ALL_OLD",
    )
    for index in range(3):
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "many"}, "sk": {"S": f"{index}"}})
    page = dynamodb.query(
        TableName="t",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "many"}},
        Limit=2,
    )
    dynamodb.query(
        TableName="t",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "many"}},
        ExclusiveStartKey=page["LastEvaluatedKey"],
        Select="COUNT",
    )
    dynamodb.scan(TableName="t", Limit=1)
    dynamodb.batch_get_item(
        RequestItems={"t": {"Keys": [key, {"pk": {"S": "no"}, "sk": {"S": "x"}}]}}
    )
    dynamodb.batch_write_item(
        RequestItems={"t": [{"PutRequest": {"Item": {"pk": {"S": "bw"}, "sk": {"S": "x"}}}}]}
    )
    dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])
    dynamodb.transact_write_items(TransactItems=[put("tw")])
    dynamodb.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD")

    item = get(dynamodb, "tw")
    assert item is not None
    assert set(compared) == moto_dynamodb.ITEM_OPERATIONS
    with pytest.raises(ClientError) as caught:  # errors keep moto's serialiser
        dynamodb.put_item(TableName="t", Item=rich, ConditionExpression="attribute_exists(nope)")
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
