"""One-time link credentials, stored by the SHA-256 digest of their token only.

Key layout (docs/storage.md):
- link: pk `LINK#{sha256(token)}`, sk `LINK`; gsi1 `LINKS#{mode}#{tenantId}#{userUuid}` /
  `{linkType}#{createdAt}#{digest[:12]}` so one user's links can be revoked by type
  without a scan. `ttl` = expiry, so DynamoDB removes stale links by itself; the
  expiry is still checked on redemption because TTL deletion can lag by hours.
- redemption lock: pk `LINKLOCK#{mode}#{tenantId}#{userUuid}`, sk `LOCK`, `until` epoch.

Redemption is a conditional DeleteItem that returns the old item, so exactly one of
any number of concurrent redeemers of one token wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.transactions import TransactWrite

from portcullis.store.base import Gsi1, Item, connection, owned_item, take

if TYPE_CHECKING:
    from portcullis.store.users import UserItem

LINK_SK = "LINK"


class LinkItem(Item):
    """A pending link credential; `purpose` binds extra context (e.g. a new email)."""

    digest = UnicodeAttribute()
    mode = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    userId = NumberAttribute()
    userUuid = UnicodeAttribute()
    linkType = UnicodeAttribute()
    purpose = JSONAttribute(null=True)
    createdAt = UnicodeAttribute()
    expiresAt = NumberAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_user: Gsi1[LinkItem] = Gsi1()


def link_pk(digest: str) -> str:
    return f"LINK#{digest}"


def user_links_pk(mode: str, tenant_id: str, user_uuid: str) -> str:
    return f"LINKS#{mode}#{tenant_id}#{user_uuid}"


def new_link_item(
    digest: str,
    user: UserItem,
    link_type: str,
    *,
    created_at: str,
    expires_at: int,
    purpose: dict[str, object] | None = None,
) -> LinkItem:
    """A link for `user`: it carries the user's tenant, mode and ids, so redeeming it
    reaches that user and no other."""
    mode, tenant_id, user_uuid = user.mode, user.tenantId, user.userUuid
    return owned_item(
        LinkItem,
        LINK_SK,
        "link",
        pk=link_pk(digest),
        mode=mode,
        tenant_id=tenant_id,
        digest=digest,
        userId=int(user.userId),
        userUuid=user_uuid,
        linkType=link_type,
        purpose=purpose,
        createdAt=created_at,
        expiresAt=expires_at,
        ttl=expires_at,
        gsi1pk=user_links_pk(mode, tenant_id, user_uuid),
        gsi1sk=f"{link_type}#{created_at}#{digest[:12]}",
    )


def put_link(item: LinkItem, replaces: Iterable[LinkItem] = ()) -> None:
    """Write a new link; the links it `replaces` are deleted in the same transaction."""
    stale = list(replaces)
    if not stale:
        item.save(condition=LinkItem.pk.does_not_exist())
        return
    with TransactWrite(connection=connection()) as tx:
        tx.save(item, condition=LinkItem.pk.does_not_exist())
        for old in stale:
            tx.delete(LinkItem(old.pk, old.sk))


def consume(
    digest: str,
    *,
    mode: str,
    tenant_id: str,
    user_uuid: str,
    allowed_types: Iterable[str],
    now: int,
) -> LinkItem | None:
    """Delete the link if every binding matches and it has not expired; None otherwise.

    All checks sit in the delete's condition, so a link is either consumed by this
    call or left untouched; there is no read-then-delete window.
    """
    types = sorted(set(allowed_types))
    if not types:
        return None
    condition = (
        LinkItem.pk.exists()
        & (LinkItem.mode == mode)
        & (LinkItem.tenantId == tenant_id)
        & (LinkItem.userUuid == user_uuid)
        & LinkItem.linkType.is_in(*types)
        & (LinkItem.expiresAt > now)
    )
    return take(LinkItem, link_pk(digest), LINK_SK, condition)


def user_links(
    mode: str, tenant_id: str, user_uuid: str, types: Iterable[str] | None = None
) -> list[LinkItem]:
    """The user's pending links, optionally of some types only (one gsi1 Query)."""
    wanted = set(types) if types is not None else None
    return [
        item
        for item in LinkItem.by_user.query(user_links_pk(mode, tenant_id, user_uuid))
        if wanted is None or item.linkType in wanted
    ]


def link_keys(items: Iterable[LinkItem]) -> list[LinkItem]:
    """Just the keys of `items`, for deleting them inside a user's transaction (a
    delete by key, whatever attributes the links carried when read)."""
    return [LinkItem(item.pk, item.sk) for item in items]


def delete_links(items: Iterable[LinkItem]) -> None:
    with LinkItem.batch_write() as batch:
        for item in items:
            batch.delete(LinkItem(item.pk, item.sk))
