"""The local runtime's linear-time TransactWriteItems keeps DynamoDB's semantics."""

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
    moto_dynamodb.install()
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=aws)
    client.create_table(**table_definition("t", stream=False))
    try:
        yield client
    finally:
        client.delete_table(TableName="t")
        moto_dynamodb.DynamoDBBackend.transact_write_items = original


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
