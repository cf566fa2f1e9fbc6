"""API keys, stored by digest only (webhook keys also KMS-sealed, to be sent), plus a
per-type counter of active keys.

The counter lets invalidation and deletion enforce the last-active-key rule inside one
transaction (a condition on the counter), so two concurrent invalidations can never
leave a tenant without an active key.
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from portcullis.store.base import Gsi1, Item, connection, find, owned_item, tenant_pk

KEY_SK = "APIKEY"


class ApiKeyItem(Item):
    digest = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    keyType = UnicodeAttribute()
    last4 = UnicodeAttribute()
    isActive = BooleanAttribute()
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    # Webhook keys only (created since issue 11): the full key, KMS-sealed, because the
    # service sends it in the `Authorization` header of its webhooks (webhooks/bearer.py).
    sealedKey = UnicodeAttribute(null=True)
    by_tenant: Gsi1[ApiKeyItem] = Gsi1()


class ActiveKeyCount(Item):
    active = NumberAttribute(default=0)


class LastActiveKey(Exception):
    """The change would leave the tenant+mode without an active key of this type."""


class KeyChanged(Exception):
    """The key was invalidated or deleted by another request since it was read."""


def key_pk(digest: str) -> str:
    return f"APIKEY#{digest}"


def count_key(mode: str, tenant_id: str, key_type: str) -> ActiveKeyCount:
    return ActiveKeyCount(tenant_pk(mode, tenant_id), f"KEYCOUNT#{key_type}")


def new_key_item(
    digest: str, tenant_id: str, mode: str, key_type: str, last4: str, now: str
) -> ApiKeyItem:
    return owned_item(
        ApiKeyItem,
        KEY_SK,
        "apikey",
        pk=key_pk(digest),
        mode=mode,
        tenant_id=tenant_id,
        digest=digest,
        keyType=key_type,
        last4=last4,
        isActive=True,
        createdAt=now,
        updatedAt=now,
        gsi1pk=f"APIKEYS#{mode}#{tenant_id}#{key_type}",
        gsi1sk=f"{now}#{digest[:16]}",
    )


def create_key(item: ApiKeyItem) -> None:
    with TransactWrite(connection=connection()) as tx:
        tx.save(item, condition=ApiKeyItem.pk.does_not_exist())
        counter = count_key(item.mode, item.tenantId, item.keyType)
        tx.update(
            counter, actions=[ActiveKeyCount.active.add(1), ActiveKeyCount.type.set("keycount")]
        )


def get_key(digest: str) -> ApiKeyItem | None:
    return find(ApiKeyItem, key_pk(digest), KEY_SK)


def list_keys(mode: str, tenant_id: str, key_type: str) -> list[ApiKeyItem]:
    return list(
        ApiKeyItem.by_tenant.query(
            f"APIKEYS#{mode}#{tenant_id}#{key_type}", scan_index_forward=False
        )
    )


def _last_key_guard(tx: TransactWrite, item: ApiKeyItem) -> None:
    counter = count_key(item.mode, item.tenantId, item.keyType)
    tx.update(counter, actions=[ActiveKeyCount.active.add(-1)], condition=ActiveKeyCount.active > 1)


def invalidate_key(item: ApiKeyItem, now: str) -> None:
    """Deactivate an active key; a no-op for a key that is already inactive."""
    if not item.isActive:
        return
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(
                item,
                actions=[ApiKeyItem.isActive.set(False), ApiKeyItem.updatedAt.set(now)],
                condition=ApiKeyItem.isActive == True,  # noqa: E712 (pynamodb condition)
            )
            _last_key_guard(tx, item)
    except TransactWriteError as exc:
        raise _translate(exc) from exc
    item.isActive = False
    item.updatedAt = now


def delete_key(item: ApiKeyItem) -> None:
    try:
        with TransactWrite(connection=connection()) as tx:
            if item.isActive:
                tx.delete(item, condition=ApiKeyItem.isActive == True)  # noqa: E712
                _last_key_guard(tx, item)
            else:
                tx.delete(item, condition=ApiKeyItem.isActive == False)  # noqa: E712
    except TransactWriteError as exc:
        raise _translate(exc) from exc


def _translate(exc: TransactWriteError) -> Exception:
    reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
    if reasons[:1] == ["ConditionalCheckFailed"]:
        return KeyChanged()
    if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
        return LastActiveKey()
    return exc


def delete_tenant_keys(mode: str, tenant_id: str) -> None:
    with ApiKeyItem.batch_write() as batch:
        for key_type in ("admin", "readonly", "webhook"):
            for item in list_keys(mode, tenant_id, key_type):
                batch.delete(item)
