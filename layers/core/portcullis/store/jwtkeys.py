"""JWT signing keys: public part in clear, private part envelope-encrypted with KMS.

The keys of one tenant and mode form a chain in activation order (docs/keyrotation.md):
each key signs from `activatesAt` until `retiredAt`, which is the next key's
`activatesAt`, and the last key of the chain (the "head") has no `retiredAt`. Rotation
and removal change the chain in one transaction whose conditions fail if another one
changed it first, so two at once can never leave two signing keys or none.

The head alone carries the `gsi1` attributes (`JWTKEYHEAD#<mode>`, sorted by creation),
so the scheduled rotation finds the keys older than N days with one query per mode.
Items written before rotation existed carry `isActive: true` and no `activatesAt`; they
activated at `createdAt` and are not in that index until their first rotation.
"""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError

from portcullis.store import transactions
from portcullis.store.base import Gsi1, Item, newest_first, owned_item, tenant_pk

PREFIX = "JWTKEY#"
HEAD_PREFIX = "JWTKEYHEAD#"


class JwtKeyItem(Item):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    kid = UnicodeAttribute()
    algorithm = UnicodeAttribute(default="RS256")
    publicKeyPem = UnicodeAttribute()
    encryptedPrivateKey = UnicodeAttribute()
    encryptedDataKey = UnicodeAttribute()
    nonce = UnicodeAttribute()
    # Written by versions before rotation (always true); whether a key signs is now
    # derived from `activatesAt`/`retiredAt` (`tokens.signing.is_signing`).
    isActive = BooleanAttribute(null=True)
    createdAt = UnicodeAttribute()
    activatesAt = UnicodeAttribute(null=True)  # None: activated at `createdAt`
    retiredAt = UnicodeAttribute(null=True)  # when the next key took (or takes) over
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    heads: Gsi1[JwtKeyItem] = Gsi1()


def _head_pk(mode: str) -> str:
    return f"{HEAD_PREFIX}{mode}"


def _head_sk(item: JwtKeyItem) -> str:
    return f"{item.createdAt}#{item.tenantId}#{item.kid}"


def new_key_item(
    tenant_id: str,
    mode: str,
    kid: str,
    created_at: str,
    *,
    publicKeyPem: str,
    encryptedPrivateKey: str,
    encryptedDataKey: str,
    nonce: str,
    activates_at: str | None = None,
) -> JwtKeyItem:
    """A new head of the chain (signing from `activates_at`, default at once)."""
    item = owned_item(
        JwtKeyItem,
        f"{PREFIX}{created_at}#{kid}",
        "jwtkey",
        mode=mode,
        tenant_id=tenant_id,
        kid=kid,
        createdAt=created_at,
        activatesAt=activates_at or created_at,
        publicKeyPem=publicKeyPem,
        encryptedPrivateKey=encryptedPrivateKey,
        encryptedDataKey=encryptedDataKey,
        nonce=nonce,
    )
    item.gsi1pk = _head_pk(mode)
    item.gsi1sk = _head_sk(item)
    return item


def list_keys(mode: str, tenant_id: str, *, consistent: bool = False) -> list[JwtKeyItem]:
    """Every stored key of the tenant and mode, newest first."""
    return newest_first(JwtKeyItem, tenant_pk(mode, tenant_id), PREFIX, consistent_read=consistent)


def _retire(item: JwtKeyItem, at: str, expected: str | None) -> transactions.Update:
    """`item` stops signing at `at` and stops being the head; only if its `retiredAt`
    is still what this change read (`expected`, None: it was the head)."""
    condition = (
        JwtKeyItem.retiredAt.does_not_exist()
        if expected is None
        else JwtKeyItem.retiredAt == expected
    )
    return transactions.Update(
        item,
        [JwtKeyItem.retiredAt.set(at), JwtKeyItem.gsi1pk.remove(), JwtKeyItem.gsi1sk.remove()],
        JwtKeyItem.pk.exists() & condition,
    )


def rotate(
    new: JwtKeyItem,
    current: JwtKeyItem,
    *,
    current_retired_at: str | None,
    dropped: JwtKeyItem | None = None,
) -> None:
    """Append `new` to the chain: `current` (the key signing now) hands over at
    `new.activatesAt`; `dropped`, a head that never signed, leaves in the same write.
    Raises `transactions.WriteConflict` if another change touched the chain first."""
    deletes = []
    if dropped is not None:
        deletes.append(
            transactions.Delete(
                dropped, JwtKeyItem.pk.exists() & JwtKeyItem.retiredAt.does_not_exist()
            )
        )
    transactions.commit(
        [new],
        [_retire(current, str(new.activatesAt), current_retired_at)],
        save_conditions={0: JwtKeyItem.pk.does_not_exist()},
        deletes=deletes,
    )


def remove_retired(item: JwtKeyItem) -> None:
    """Delete a key that no longer signs (its `retiredAt` is set and unchanged)."""
    transactions.commit(
        [],
        [],
        deletes=[
            transactions.Delete(item, JwtKeyItem.retiredAt == str(item.retiredAt)),
        ],
    )


def remove_pending(item: JwtKeyItem, current: JwtKeyItem) -> None:
    """Delete a head that has not started signing; `current` becomes the head again."""
    transactions.commit(
        [],
        [
            transactions.Update(
                current,
                [
                    JwtKeyItem.retiredAt.remove(),
                    JwtKeyItem.gsi1pk.set(_head_pk(current.mode)),
                    JwtKeyItem.gsi1sk.set(_head_sk(current)),
                ],
                JwtKeyItem.retiredAt == str(item.activatesAt),
            )
        ],
        deletes=[transactions.Delete(item, JwtKeyItem.retiredAt.does_not_exist())],
    )


def delete_expired(item: JwtKeyItem) -> bool:
    """Delete a retired key past its retention (it verifies nothing any more); False if
    another change got there first."""
    try:
        item.delete(JwtKeyItem.retiredAt == str(item.retiredAt))
    except DeleteError:
        return False
    return True


def heads_created_before(mode: str, cutoff: str) -> Iterator[JwtKeyItem]:
    """The head key of every tenant of `mode` created before `cutoff` (ISO time)."""
    return JwtKeyItem.heads.query(_head_pk(mode), JwtKeyItem.gsi1sk < cutoff)
