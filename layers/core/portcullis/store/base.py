"""pynamodb plumbing shared by every item type of the single table."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, TypeVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from portcullis.platform import config


def endpoint_url() -> str | None:
    """moto's server locally and in tests; None in AWS (botocore picks the real endpoint)."""
    return os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")


class TableMeta:
    table_name = config.table_name()
    region = config.region()
    host = endpoint_url()
    max_retry_attempts = 3


_M = TypeVar("_M", bound=Model)


class Gsi1(GlobalSecondaryIndex[_M]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex[_M]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Item(Model):
    """Base of every item: `pk`/`sk`, a `type` discriminator and an optional TTL."""

    class Meta(TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    ttl = NumberAttribute(null=True)  # epoch seconds; the table TTL attribute

    @classmethod
    def _get_connection(cls) -> Any:
        """One connection per model class.

        pynamodb caches the connection (and with it the index schema) as a class
        attribute, so a subclass would inherit the one first made for `Item` itself
        (e.g. by `Item.query` or `Item.batch_write`), which knows no indexes: every
        later index query of that subclass would fail with "has no index".
        """
        if "_connection" not in cls.__dict__:
            cls._connection = None
        return super()._get_connection()


_I = TypeVar("_I", bound=Item)


@cache
def connection() -> Connection:
    """One low-level connection per process, for transactions spanning item types."""
    return Connection(region=config.region(), host=endpoint_url(), max_retry_attempts=3)


def _models(root: type[Model]) -> list[type[Model]]:
    found = [root]
    for sub in root.__subclasses__():
        found.extend(_models(sub))
    return found


def configure(table_name: str | None = None, host: str | None = None) -> None:
    """Re-point every model at a table and endpoint after import.

    pynamodb reads `Meta` when a model class is created; the local runtime and the test
    fixtures start moto first and call this so models imported earlier follow along.
    """
    table_name = table_name or config.table_name()
    host = host if host is not None else endpoint_url()
    for model in _models(Item):
        model.Meta.table_name = table_name
        model.Meta.host = host
        model.Meta.region = config.region()
        model._connection = None
    connection.cache_clear()


def take(model: type[_I], pk: str, sk: str, condition: Any) -> _I | None:
    """Delete an item only if `condition` holds and return it as it was, else None.

    One conditional DeleteItem makes single-use secrets (links, PKCE codes) redeemable
    exactly once, even by two concurrent requests.
    """
    from pynamodb.exceptions import DeleteError

    try:
        response = model._get_connection().delete_item(
            pk, range_key=sk, condition=condition, return_values="ALL_OLD"
        )
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    attributes = response.get("Attributes")
    if not attributes:
        return None
    item = model()
    item.deserialize(attributes)
    return item


def condition_held(write: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
    """Make one conditional write (`item.save`, `item.update`, `item.delete` with their
    arguments): True when it was made, False when its condition failed, which is a
    normal answer (a lost race, a used token, a state already left), not an error.
    Every other failure propagates."""
    from pynamodb.exceptions import DeleteError, PutError, UpdateError

    try:
        write(*args, **kwargs)
    except (PutError, UpdateError, DeleteError) as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


class Versioned(Item):
    """An item replaced by compare-and-set: `version` counts its writes (1 = first)."""

    version = NumberAttribute()


_V = TypeVar("_V", bound=Versioned)


def save_versioned(item: _V, replaces: _V | None, changed: type[Exception]) -> _V:
    """Write `item` as the version after `replaces` (None: nothing stored yet) if the
    stored item is still `replaces`; otherwise another writer came first: `changed`."""
    model = type(item)
    item.version = 1 if replaces is None else int(replaces.version) + 1
    condition = model.pk.does_not_exist() if replaces is None else model.version == replaces.version
    if not condition_held(item.save, condition=condition):
        raise changed()
    return item


def find(model: type[_I], pk: str, sk: str, consistent_read: bool = False) -> _I | None:
    """The item at (pk, sk), or None when there is none: a missing item is an answer
    (404, "no override", "first use"), not an error, for every reader in `store/`."""
    try:
        return model.get(pk, sk, consistent_read=consistent_read)
    except model.DoesNotExist:
        return None


def read_page(
    query: Callable[..., Iterable[_I]], *args: Any, limit: int, start: dict[str, Any] | None
) -> tuple[list[_I], _I | None]:
    """At most `limit` items of one Query (`query(*args)`) from the key `start`, and the
    last of them when more are left (None: none are). Reads one item more than it
    returns, to know whether any are left."""
    size = limit + 1
    found = list(query(*args, limit=size, last_evaluated_key=start, page_size=min(size, 2000)))
    if len(found) <= limit:
        return found, None
    return found[:limit], found[limit - 1]


def newest_first(model: type[_I], pk: str, prefix: str, **options: Any) -> list[_I]:
    """The items of partition `pk` whose sort key starts with `prefix`, highest key first:
    newest first where the key goes on with a time or a counter (keys, users)."""
    return list(model.query(pk, model.sk.startswith(prefix), scan_index_forward=False, **options))


def tenant_pk(mode: str, tenant_id: str) -> str:
    return f"TENANT#{mode}#{tenant_id}"


def owned_item(
    model: type[_I],
    sk: str,
    kind: str,
    *,
    mode: str,
    tenant_id: str,
    pk: str | None = None,
    **attributes: Any,
) -> _I:
    """A new item of one tenant in one mode (default key: the tenant's partition).

    Such an item names its tenant and mode as attributes too, not only inside its key, so
    a reader checks whose it is by comparing attributes (tenant isolation) and never by
    parsing keys; one constructor keeps that true of every item type.
    """
    key = tenant_pk(mode, tenant_id) if pk is None else pk
    return model(key, sk, type=kind, tenantId=tenant_id, mode=mode, **attributes)


def saved(item: _I) -> _I:
    """Write `item` unconditionally (last writer wins) and hand it back."""
    item.save()
    return item


def delete_found(item: Item | None) -> bool:
    """Delete an item just read; False when there was none, which callers answer as 404."""
    if item is None:
        return False
    item.delete()
    return True
