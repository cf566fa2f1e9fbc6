"""The local runtime's query shortcut (`infra/local/moto_queries.py`) answers every query
exactly as moto itself does: a random mix of puts, updates, deletes, batch writes and
transactions (some failing, so rolled back) changes the partition keys of the table and
of its indexes, and after every few writes each query below is sent twice over the
wire, once answered from the kept index and once by moto's own full-table listing, and
the two answers (items, counts, the page's last key) must be equal."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from infra.local import moto_dynamodb, moto_queries
from portcullis.store.schema import table_definition

TABLE = "q"
PARTITIONS = [f"P#{n}" for n in range(4)]
GSI_VALUES = [f"G#{n}" for n in range(3)]
ROUNDS = 5


@pytest.fixture
def dynamodb(aws: str) -> Iterator[Any]:
    """A throw-away table on the session's moto server with both changes installed (the
    transactions of `moto_dynamodb` write through the index's hooks too)."""
    transact = moto_dynamodb.DynamoDBBackend.transact_write_items
    serialized = moto_dynamodb.DynamoHandler.serialized
    moto_dynamodb.install()
    moto_queries.install()
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=aws)
    client.create_table(**table_definition(TABLE, stream=False))
    try:
        yield client
    finally:
        client.delete_table(TableName=TABLE)
        moto_queries.uninstall()
        moto_dynamodb.DynamoDBBackend.transact_write_items = transact
        moto_dynamodb.DynamoHandler.serialized = serialized


@contextmanager
def moto_alone() -> Iterator[None]:
    """moto's own query for the block (the index and its write hooks stay as they are)."""
    Table.query = moto_queries._original_query  # type: ignore[method-assign]
    Table.all_items = moto_queries._original_all_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = moto_queries.query  # type: ignore[method-assign]
        Table.all_items = moto_queries.all_items  # type: ignore[method-assign]


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _key(rng: random.Random) -> dict[str, Any]:
    return {"pk": _s(rng.choice(PARTITIONS)), "sk": _s(f"S#{rng.randrange(12):02d}")}


def _item(rng: random.Random) -> dict[str, Any]:
    item = {**_key(rng), "n": {"N": str(rng.randrange(100))}}
    if rng.random() < 0.7:
        item["gsi1pk"] = _s(rng.choice(GSI_VALUES))
        item["gsi1sk"] = _s(f"{rng.randrange(50):03d}")
    if rng.random() < 0.3:
        item["gsi2pk"] = _s(rng.choice(GSI_VALUES))
        item["gsi2sk"] = _s("x")
    return item


def _update(rng: random.Random) -> dict[str, Any]:
    """A random update: move to another index partition, leave the index, or count."""
    choice = rng.randrange(3)
    if choice == 0:
        return {
            "UpdateExpression": "SET gsi1pk = :p, gsi1sk = :s",
            "ExpressionAttributeValues": {
                ":p": _s(rng.choice(GSI_VALUES)),
                ":s": _s(f"{rng.randrange(50):03d}"),
            },
        }
    if choice == 1:
        return {"UpdateExpression": "REMOVE gsi1pk, gsi1sk"}
    return {"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}


def _write(client: Any, rng: random.Random) -> None:
    kind = rng.randrange(6)
    try:
        if kind == 0:
            client.put_item(TableName=TABLE, Item=_item(rng))
        elif kind == 1:  # may create the item, as DynamoDB's UpdateItem does
            client.update_item(TableName=TABLE, Key=_key(rng), **_update(rng))
        elif kind == 2:
            client.delete_item(TableName=TABLE, Key=_key(rng))
        elif kind == 3:  # conditional: fails on a missing item, changing nothing
            client.update_item(
                TableName=TABLE,
                Key=_key(rng),
                ConditionExpression="attribute_exists(pk)",
                **_update(rng),
            )
        elif kind == 4:
            distinct = {(i["pk"]["S"], i["sk"]["S"]): i for i in (_item(rng) for _ in range(4))}
            requests = [{"PutRequest": {"Item": i}} for i in distinct.values()]
            client.batch_write_item(RequestItems={TABLE: requests})
        else:  # a transaction, its last put conditional: often cancelled, all rolled back
            first, second = _key(rng), _item(rng)
            if (first["pk"], first["sk"]) == (second["pk"], second["sk"]):
                return
            client.transact_write_items(
                TransactItems=[
                    {"Update": {"TableName": TABLE, "Key": first, **_update(rng)}},
                    {
                        "Put": {
                            "TableName": TABLE,
                            "Item": second,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
    except ClientError as error:
        code = error.response["Error"]["Code"]
        assert code in ("ConditionalCheckFailedException", "TransactionCanceledException"), code


def _queries() -> Iterator[dict[str, Any]]:
    for partition in [*PARTITIONS, "P#none"]:
        yield {
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": _s(partition)},
        }
        yield {
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {":p": _s(partition), ":a": _s("S#03"), ":b": _s("S#08")},
            "ScanIndexForward": False,
        }
    for value in [*GSI_VALUES, "G#none"]:
        for index in ("gsi1", "gsi2"):
            yield {
                "IndexName": index,
                "KeyConditionExpression": f"{index}pk = :p",
                "ExpressionAttributeValues": {":p": _s(value)},
            }
        yield {
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p AND gsi1sk <= :u",
            "ExpressionAttributeValues": {":p": _s(value), ":u": _s("030")},
            "Limit": 3,
        }
        yield {
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "FilterExpression": "n > :n",
            "ExpressionAttributeValues": {":p": _s(value), ":n": {"N": "40"}},
            "ScanIndexForward": False,
        }


def _pages(client: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of the query: items, counts and each page's last key."""
    pages = []
    start: dict[str, Any] | None = None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        answer = client.query(TableName=TABLE, **query, **extra)
        answer.pop("ResponseMetadata", None)
        pages.append(answer)
        start = answer.get("LastEvaluatedKey")
        if not start or "Limit" not in query:
            return pages


def test_every_query_answers_as_moto_does_through_random_writes(dynamodb: Any) -> None:
    rng = random.Random(20261207)
    compared = 0
    for round_ in range(ROUNDS):
        for _ in range(30):
            _write(dynamodb, rng)
        for query in _queries():
            fast = _pages(dynamodb, query)
            with moto_alone():
                reference = _pages(dynamodb, query)
            assert fast == reference, (round_, query)
            compared += 1
    assert compared == ROUNDS * len(list(_queries()))
    # The kept index is what answered (not moto's listing), and it is exact: no key in
    # a bucket that the item no longer has.
    table = _moto_table()
    index = table.__dict__[moto_queries._ATTRIBUTE]
    for attribute, buckets in index.buckets.items():
        for value, keys in buckets.items():
            for key in keys:
                item = moto_queries._lookup(table, key)
                assert item is not None and item.attrs[attribute] == value


def _moto_table() -> Table:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(TABLE)


def _by_group(client: Any, group: str) -> dict[str, Any]:
    return dict(
        client.query(
            TableName=TABLE,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": _s(group)},
        )
    )


def test_a_query_reads_only_its_candidates(dynamodb: Any) -> None:
    """The point of it: once built (by the first index query), the index answers and
    the table is never listed again, writes or not."""
    requests = [
        {
            "PutRequest": {
                "Item": {
                    "pk": _s(f"P#{n}"),
                    "sk": _s("x"),
                    "gsi1pk": _s(f"G#{n % 5}"),
                    "gsi1sk": _s("s"),
                }
            }
        }
        for n in range(100)
    ]
    for start in range(0, 100, 25):
        dynamodb.batch_write_item(RequestItems={TABLE: requests[start : start + 25]})
    assert _by_group(dynamodb, "G#0")["Count"] == 20  # builds the index
    dynamodb.put_item(
        TableName=TABLE,
        Item={"pk": _s("new"), "sk": _s("x"), "gsi1pk": _s("G#3"), "gsi1sk": _s("s")},
    )
    listed: list[int] = []
    original = moto_queries._original_all_items

    def counting(self: Table) -> Any:
        found = original(self)
        listed.append(len(found))
        return found

    moto_queries._original_all_items = counting
    try:
        assert _by_group(dynamodb, "G#3")["Count"] == 21
        table_query = dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": _s("P#7")},
        )
        assert table_query["Count"] == 1
    finally:
        moto_queries._original_all_items = original
    assert listed == []  # neither query listed the table
