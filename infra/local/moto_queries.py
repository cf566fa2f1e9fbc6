"""Queries of moto's DynamoDB that read only the items they can match (local runtime only).

moto 5.2.5 answers every `Query` by listing and sorting the WHOLE table
(`Table.all_items`), then keeping the items whose key matches: a table query as much as
an index query. With the single table holding every tenant's users, guards, sessions,
rate counters and outbox items, each query costs time proportional to everything ever
written, and the runtime runs a lot of them: a log-in by email queries the email index,
and the outbox drain after every write queries each of its 8 shards of the pending
index. The import round trip at 1,000 users per preset (docs/performance.md "The local
runtime") slowed to a fraction of a log-in per second that way.

This keeps, per table, an index from each global secondary index's partition-key value
to the keys of the items that have it, kept exact on every write (`Table.put_item`,
`Table.delete_item` and `DynamoDBBackend.update_item`, through which moto's put, delete,
update, batch and transaction writes all pass; `moto_dynamodb`'s transactions too). It
is built from the table on the first query, so tables created or restored any way start
right. A query then hands moto's own `Table.query` only the candidate items — the
partition of the table for a table query or a local index, the index's bucket for a
global one — and moto does everything else as before: it checks the key condition on
each candidate again, sorts, applies range conditions, filters, pages and projects. The
answer is therefore moto's own as long as the candidates include every match, which is
what `tests/unit/test_moto_queries.py` checks against unpatched moto, operation by
operation. Anything this does not recognise (no equality on the index's first partition
key attribute, say) takes moto's path unchanged. Like `moto_dynamodb`'s transactions it
relies on the runtime's one-DynamoDB-call-at-a-time lock (`wiretap`): the index is plain
dicts and sets, changed and read by one call at a time.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import GlobalSecondaryIndex, Table

_ATTRIBUTE = "_portcullis_partition_index"
_original_query = Table.query
_original_all_items = Table.all_items
_original_put_item = Table.put_item
_original_delete_item = Table.delete_item
_original_update_item = DynamoDBBackend.update_item
_hint = threading.local()
_indexed: weakref.WeakSet[Table] = weakref.WeakSet()

Key = tuple[DynamoType, DynamoType | None]


class PartitionIndex:
    """For each GSI partition-key attribute: value → keys of the items holding it, and
    for each item the values it is filed under (so a change moves it exactly)."""

    def __init__(self, table: Table) -> None:
        named = (_first_hash_attribute(index) for index in table.global_indexes or [])
        self.attributes = sorted({name for name in named if name is not None})
        self.buckets: dict[str, dict[DynamoType, set[Key]]] = {a: {} for a in self.attributes}
        self.filed: dict[Key, dict[str, DynamoType]] = {}
        for item in _original_all_items(table):
            self.file(_key(item), item)

    def file(self, key: Key, item: Item | None) -> None:
        """File the item now at `key` (None: gone) under its current values."""
        before = self.filed.pop(key, {})
        for attribute, old in before.items():
            bucket = self.buckets[attribute].get(old)
            if bucket is not None:
                bucket.discard(key)
                if not bucket:
                    del self.buckets[attribute][old]
        if item is None:
            return
        now: dict[str, DynamoType] = {}
        for attribute in self.attributes:
            value: DynamoType | None = item.attrs.get(attribute)
            if value is not None:
                now[attribute] = value
                self.buckets[attribute].setdefault(value, set()).add(key)
        if now:
            self.filed[key] = now


def _first_hash_attribute(index: Any) -> str | None:
    for element in index.schema:
        if element["KeyType"] == "HASH":
            return str(element["AttributeName"])
    return None


def _key(item: Item) -> Key:
    return (item.hash_key, item.range_key)


def _index(table: Table) -> PartitionIndex:
    index: PartitionIndex | None = table.__dict__.get(_ATTRIBUTE)
    if index is None:
        index = PartitionIndex(table)
        setattr(table, _ATTRIBUTE, index)
        _indexed.add(table)
    return index


def _lookup(table: Table, key: Key) -> Item | None:
    """The item at `key`, if any (moto's `get_item` would add an empty partition)."""
    found = table.items.get(key[0])
    if found is None or not table.range_key_attr:
        return found  # type: ignore[return-value]
    return found.get(key[1])


def _refile(table: Table, key: Key) -> None:
    """After a write at `key`: re-file what is there now (only once an index exists)."""
    index: PartitionIndex | None = table.__dict__.get(_ATTRIBUTE)
    if index is not None:
        index.file(key, _lookup(table, key))


def _partition(table: Table, hash_key: DynamoType) -> list[Item]:
    found = table.items.get(hash_key)
    if found is None:
        return []
    if table.range_key_attr:
        return list(found.values())
    return [found]  # type: ignore[list-item]


def _candidates(
    table: Table,
    hash_key: DynamoType | None,
    index_name: str | None,
    hash_key_conditions: Iterable[tuple[str, DynamoType]] | None,
) -> list[Item] | None:
    """The items that may match, or None: let moto list the whole table."""
    if index_name is None:
        return _partition(table, hash_key) if hash_key is not None else None
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None:
        return None  # moto raises its own validation error
    attribute = _first_hash_attribute(index)
    value = next((v for name, v in hash_key_conditions or () if name == attribute), None)
    if attribute is None or value is None:
        return None
    if not isinstance(index, GlobalSecondaryIndex):
        # A local index shares the table's partition key.
        return _partition(table, value) if attribute == table.hash_key_attr else None
    keys = _index(table).buckets.get(attribute, {}).get(value, set())
    found = (_lookup(table, key) for key in keys)
    return [item for item in found if item is not None]


def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    candidates = _candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
    if candidates is None:
        return _original_query(self, hash_key, *args, **kwargs)
    previous = getattr(_hint, "value", None)
    _hint.value = (self, candidates)
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        _hint.value = previous


def all_items(self: Table) -> list[Item]:
    """Inside `query`: the candidates, in moto's order; anywhere else: every item."""
    hint = getattr(_hint, "value", None)
    if hint is None or hint[0] is not self:
        return _original_all_items(self)
    return sorted(hint[1], key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
    item = _original_put_item(self, item_attrs, *args, **kwargs)
    _refile(self, _key(item))
    return item


def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    item = _original_delete_item(self, hash_key, range_key)
    if item is not None:
        _refile(self, _key(item))
    return item


def update_item(
    self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
) -> Any:
    """moto changes the item in place: re-file it afterwards, whatever happened."""
    table = self.get_table(table_name)
    try:
        return _original_update_item(self, table_name, key, *args, **kwargs)
    finally:
        range_attr = table.range_key_attr
        if table.hash_key_attr in key and (range_attr is None or range_attr in key):
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[range_attr]) if range_attr else None
            _refile(table, (hash_value, range_value))
        else:  # a key shape moto tolerates but this cannot file: rebuild at next query
            table.__dict__.pop(_ATTRIBUTE, None)


def install() -> None:
    """Replace moto's implementation for this process (the local runtime's moto)."""
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]


def uninstall() -> None:
    """moto's own implementation again (the differential test compares the two). The
    indexes go too: writes from now on would not keep them exact."""
    for table in list(_indexed):
        table.__dict__.pop(_ATTRIBUTE, None)
    Table.query = _original_query  # type: ignore[method-assign]
    Table.all_items = _original_all_items  # type: ignore[method-assign]
    Table.put_item = _original_put_item  # type: ignore[method-assign]
    Table.delete_item = _original_delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _original_update_item  # type: ignore[method-assign]
