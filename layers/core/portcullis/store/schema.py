"""The table's physical definition, shared by the local runtime and tests.

`template.yaml` declares the same keys for AWS; `tests/infrastructure` checks they agree.
"""

from __future__ import annotations

from typing import Any

TTL_ATTRIBUTE = "ttl"

KEY_ATTRIBUTES = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")


def table_definition(table_name: str, *, stream: bool = True) -> dict[str, Any]:
    """Arguments for `dynamodb.create_table` describing the single table.

    `stream=False` for the local runtime: it drains the outbox itself, and moto keeps
    every stream record in memory for the life of the process.
    """
    definition: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in KEY_ATTRIBUTES
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": f"{name}pk", "KeyType": "HASH"},
                    {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name in ("gsi1", "gsi2")
        ],
    }
    if stream:
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    return definition


def create_table(client: Any, table_name: str, *, stream: bool = True) -> None:
    """Create the table (and its TTL) if it does not exist yet."""
    existing = client.list_tables().get("TableNames", [])
    if table_name in existing:
        return
    client.create_table(**table_definition(table_name, stream=stream))
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
