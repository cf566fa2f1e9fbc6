"""SAML identity provider state (docs/saml.md): signing keys, registered service
providers, pending SP requests, single-use SAML tokens and seen request ids.

Key layout (all live mode):
- signing key: pk `TENANT#live#{workspaceId}`, sk `SAMLKEY#{createdAt}#{kid}`; the
  private key envelope-encrypted with KMS (like JWT keys), certificate in clear. The
  workspace's first key is written with a guard item (sk `SAMLKEYFIRST`) in the same
  transaction, so two simultaneous first uses cannot both create one.
- SP: pk `TENANT#live#{tenantId}`, sk `SAMLSP#{spId}`; its entity id is unique in the
  tenant through a guard item sk `SAMLSPENTITY#{sha256(entityId)}` written in the same
  transaction.
- SP count: pk `TENANT#live#{tenantId}`, sk `SAMLSPCOUNT`; changed in the transaction
  that creates or deletes an SP, whose condition keeps it under the cap.
- pending request: pk `SAMLREQ#{id}`, sk `SAMLREQ`; `ttl` 10 minutes.
- seen request id: pk `SAMLSEEN#{sha256(tenant|issuer|id)}`, sk `SEEN`; a second
  AuthnRequest/LogoutRequest with the same id fails its put condition (replay).
- SAML token: pk `SAMLTOKEN#{sha256(token)}`, sk `SAMLTOKEN`; `ttl` 2 minutes, taken with
  one conditional delete so it is used at most once.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from portcullis.store import transactions
from portcullis.store.base import Item, condition_held, find, newest_first, take, tenant_pk

MODE = "live"
KEY_PREFIX = "SAMLKEY#"
FIRST_KEY_SK = "SAMLKEYFIRST"  # outside KEY_PREFIX: never listed as a key
SP_PREFIX = "SAMLSP#"
GUARD_PREFIX = "SAMLSPENTITY#"
SP_COUNT_SK = "SAMLSPCOUNT"
PENDING_SK = "SAMLREQ"
SEEN_SK = "SEEN"
TOKEN_SK = "SAMLTOKEN"


class SamlKeyItem(Item):
    workspaceId = UnicodeAttribute()
    kid = UnicodeAttribute()
    certificatePem = UnicodeAttribute()
    encryptedPrivateKey = UnicodeAttribute()
    encryptedDataKey = UnicodeAttribute()
    nonce = UnicodeAttribute()
    createdAt = UnicodeAttribute()


class SamlFirstKeyGuard(Item):
    kid = UnicodeAttribute()  # the first key's


class SamlSpItem(Item):
    tenantId = UnicodeAttribute()
    spId = UnicodeAttribute()
    config = JSONAttribute()  # the SP's fields as the API shows them
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()


class SamlSpGuardItem(Item):
    spId = UnicodeAttribute()


class SamlSpCountItem(Item):
    registered = NumberAttribute()  # SPs of the tenant


class SamlPendingItem(Item):
    tenantId = UnicodeAttribute()
    spId = UnicodeAttribute()
    kind = UnicodeAttribute()  # "login" | "logout"
    requestId = UnicodeAttribute()
    relayState = UnicodeAttribute(null=True)
    nameId = UnicodeAttribute(null=True)
    expiresAt = NumberAttribute()


class SamlSeenItem(Item):
    pass


class SamlTokenItem(Item):
    tenantId = UnicodeAttribute()
    userId = NumberAttribute()
    userUuid = UnicodeAttribute()
    sessionId = UnicodeAttribute()
    expiresAt = NumberAttribute()


_Expiring = TypeVar("_Expiring", SamlPendingItem, SamlTokenItem)


# -- signing keys ---------------------------------------------------------------------


def list_keys(workspace_id: str) -> list[SamlKeyItem]:
    """The workspace's signing keys, newest first (the newest signs)."""
    return newest_first(
        SamlKeyItem, tenant_pk(MODE, workspace_id), KEY_PREFIX, consistent_read=True
    )


def new_key_item(workspace_id: str, kid: str, created_at: str, **fields: Any) -> SamlKeyItem:
    return SamlKeyItem(
        tenant_pk(MODE, workspace_id),
        f"{KEY_PREFIX}{created_at}#{kid}",
        type="samlkey",
        workspaceId=workspace_id,
        kid=kid,
        createdAt=created_at,
        **fields,
    )


def put_key(item: SamlKeyItem) -> bool:
    """False if an item with this key exists already."""
    return condition_held(item.save, SamlKeyItem.pk.does_not_exist())


def put_first_key(item: SamlKeyItem) -> bool:
    """Write the workspace's first key with its guard; False (nothing written) when a
    concurrent first use has written its own, which the caller then reads."""
    guard = SamlFirstKeyGuard(item.pk, FIRST_KEY_SK, type="samlkeyguard", kid=item.kid)
    try:
        transactions.commit(
            [guard, item], [], save_conditions={0: SamlFirstKeyGuard.pk.does_not_exist()}
        )
    except transactions.WriteConflict:
        return False
    return True


def delete_key(item: SamlKeyItem) -> None:
    item.delete()


# -- service providers ----------------------------------------------------------------


def _guard(tenant_id: str, entity_digest: str, sp_id: str) -> SamlSpGuardItem:
    return SamlSpGuardItem(
        tenant_pk(MODE, tenant_id), f"{GUARD_PREFIX}{entity_digest}", type="samlspguard", spId=sp_id
    )


def new_sp_item(tenant_id: str, sp_id: str, config: dict[str, object], now: str) -> SamlSpItem:
    return SamlSpItem(
        tenant_pk(MODE, tenant_id),
        f"{SP_PREFIX}{sp_id}",
        type="samlsp",
        tenantId=tenant_id,
        spId=sp_id,
        config=config,
        createdAt=now,
        updatedAt=now,
    )


class TooManySps(Exception):
    """The tenant has as many SPs as it may register."""


def _sp_count(tenant_id: str) -> SamlSpCountItem:
    return SamlSpCountItem(tenant_pk(MODE, tenant_id), SP_COUNT_SK, type="samlspcount")


def _ensure_sp_count(tenant_id: str) -> None:
    """Make the count item the first time a tenant's SPs change (its SPs counted once).
    No SP is created without the item, so none can be created between the count and
    the conditional put; a concurrent first change makes the put a no-op."""
    if find(SamlSpCountItem, tenant_pk(MODE, tenant_id), SP_COUNT_SK, consistent_read=True):
        return
    item = _sp_count(tenant_id)
    item.registered = len(list_sps(tenant_id))
    condition_held(item.save, SamlSpCountItem.pk.does_not_exist())


def create_sp(item: SamlSpItem, entity_digest: str, limit: int) -> None:
    """SP, its entity-id guard and the tenant's SP count together: WriteConflict if the
    entity id is taken, TooManySps if the tenant has `limit` SPs (checked in the same
    write, so simultaneous creations cannot pass it)."""
    _ensure_sp_count(item.tenantId)
    count = transactions.Update(
        _sp_count(item.tenantId),
        [SamlSpCountItem.registered.add(1)],
        SamlSpCountItem.registered < limit,
    )
    try:
        transactions.commit(
            [_guard(item.tenantId, entity_digest, item.spId), item],
            [count],
            save_conditions={
                0: SamlSpGuardItem.pk.does_not_exist(),
                1: SamlSpItem.pk.does_not_exist(),
            },
        )
    except transactions.WriteConflict as conflict:
        if conflict.index == 2:
            raise TooManySps() from None
        raise


def replace_sp(item: SamlSpItem, old_digest: str, new_digest: str) -> None:
    """Save a changed SP; a changed entity id moves its guard in the same write."""
    saves: list[Item] = [item]
    conditions: dict[int, Condition] = {0: SamlSpItem.pk.exists()}
    deletes = []
    if old_digest != new_digest:
        saves.append(_guard(item.tenantId, new_digest, item.spId))
        conditions[1] = SamlSpGuardItem.pk.does_not_exist()
        deletes.append(transactions.Delete(_guard(item.tenantId, old_digest, item.spId), None))
    transactions.commit(saves, [], save_conditions=conditions, deletes=deletes)


def delete_sp(item: SamlSpItem, entity_digest: str) -> None:
    _ensure_sp_count(item.tenantId)
    transactions.commit(
        [],
        [
            transactions.Update(
                _sp_count(item.tenantId),
                [SamlSpCountItem.registered.add(-1)],
                SamlSpCountItem.pk.exists(),
            )
        ],
        deletes=[
            transactions.Delete(item, SamlSpItem.pk.exists()),
            transactions.Delete(_guard(item.tenantId, entity_digest, item.spId), None),
        ],
    )


def get_sp(tenant_id: str, sp_id: str) -> SamlSpItem | None:
    return find(SamlSpItem, tenant_pk(MODE, tenant_id), f"{SP_PREFIX}{sp_id}", consistent_read=True)


def sp_id_for_entity(tenant_id: str, entity_digest: str) -> str | None:
    try:
        guard = SamlSpGuardItem.get(tenant_pk(MODE, tenant_id), f"{GUARD_PREFIX}{entity_digest}")
    except DoesNotExist:
        return None
    return guard.spId


def list_sps(tenant_id: str) -> list[SamlSpItem]:
    return list(SamlSpItem.query(tenant_pk(MODE, tenant_id), SamlSpItem.sk.startswith(SP_PREFIX)))


# -- pending requests, seen ids, tokens -------------------------------------------------


def pending_pk(pending_id: str) -> str:
    return f"SAMLREQ#{pending_id}"


def new_pending_item(pending_id: str, *, expiresAt: int, **fields: Any) -> SamlPendingItem:
    """DynamoDB removes the request when it expires (`ttl`)."""
    return SamlPendingItem(
        pending_pk(pending_id),
        PENDING_SK,
        type="samlreq",
        expiresAt=expiresAt,
        ttl=expiresAt,
        **fields,
    )


def save_pending(item: SamlPendingItem, seen_digest: str, seen_until: int) -> None:
    """The pending request and its seen id in one write; WriteConflict on a replayed id."""
    seen = SamlSeenItem(f"SAMLSEEN#{seen_digest}", SEEN_SK, type="samlseen", ttl=seen_until)
    transactions.commit(
        [seen, item],
        [],
        save_conditions={
            0: SamlSeenItem.pk.does_not_exist(),
            1: SamlPendingItem.pk.does_not_exist(),
        },
    )


def get_pending(pending_id: str) -> SamlPendingItem | None:
    return find(SamlPendingItem, pending_pk(pending_id), PENDING_SK, consistent_read=True)


def _take_unexpired(
    model: type[_Expiring], pk: str, sk: str, *, tenant_id: str, also: Any, now: int
) -> _Expiring | None:
    """Delete and return the item only if it is the tenant's, meets `also` and is unexpired
    (DynamoDB's TTL removes items late, so expiry is part of the condition)."""
    condition = model.pk.exists() & (model.tenantId == tenant_id) & also & (model.expiresAt > now)
    return take(model, pk, sk, condition)


def take_pending(pending_id: str, *, tenant_id: str, kind: str, now: int) -> SamlPendingItem | None:
    return _take_unexpired(
        SamlPendingItem,
        pending_pk(pending_id),
        PENDING_SK,
        tenant_id=tenant_id,
        also=SamlPendingItem.kind == kind,
        now=now,
    )


def token_pk(digest: str) -> str:
    return f"SAMLTOKEN#{digest}"


def put_token(digest: str, *, expiresAt: int, **fields: Any) -> None:
    """DynamoDB removes the token when it expires (`ttl`)."""
    SamlTokenItem(
        token_pk(digest),
        TOKEN_SK,
        type="samltoken",
        expiresAt=expiresAt,
        ttl=expiresAt,
        **fields,
    ).save(SamlTokenItem.pk.does_not_exist())


def take_token(digest: str, *, tenant_id: str, user_uuid: str, now: int) -> SamlTokenItem | None:
    """Delete and return the token if it is the tenant's, the user's, and unexpired; a
    wrong `uuid` leaves it in place (its owner can still use it)."""
    return _take_unexpired(
        SamlTokenItem,
        token_pk(digest),
        TOKEN_SK,
        tenant_id=tenant_id,
        also=SamlTokenItem.userUuid == user_uuid,
        now=now,
    )
