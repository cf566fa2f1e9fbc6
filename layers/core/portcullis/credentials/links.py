"""One-time link credentials: issue, revoke, redeem, and the URL that carries them.

Used by invitations and link generation here, and by the client API (sign-up welcome
links, login links, email verification, password reset). A credential is the user's
`userUuid` plus a fresh random `token` (a UUID v4 string: 122 CSPRNG bits in the shape
the reference's links use). Only the token's SHA-256 digest is stored, bound to
(mode, owning tenant, userUuid, type, purpose) and expiring by TTL (concepts §6.2).

Link types and where they are redeemed:
- `LOGIN_LINK_TYPES` (login, welcome, verify, sso) through `PUT .../auth/link`;
- `RESET_LINK_TYPES` (reset, and invite = an invitation that lands on the reset page)
  through `PUT .../auth/reset`.

Every failed redemption, whatever the reason, raises the same `Unauthorized("Invalid
token")`, so a caller learns nothing about which part was wrong. Failures are counted
per source IP by the caller (`auth.link.redeem`, `authFailuresPerIp`), never per
userUuid: a uuid is public (emailed links, ID tokens), so a per-user lock would let
anyone lock a victim out of link log-in and reset; and a 122-bit token is out of reach
of guessing at any rate an IP limit allows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

from portcullis.platform.digests import secret_digest
from portcullis.platform.durations import DAY, HOUR, MINUTE, parse_duration
from portcullis.platform.errors import INVALID_TOKEN, BadRequest, Unauthorized
from portcullis.platform.timefmt import iso, now, now_iso
from portcullis.store import links as store
from portcullis.store import tenants as tenant_store
from portcullis.store.users import UserItem
from portcullis.tenancy import settings
from portcullis.tenancy.modes import LOCAL_ORIGIN

LINK_TYPES: tuple[str, ...] = ("login", "welcome", "verify", "reset", "invite", "sso")
LOGIN_LINK_TYPES = frozenset({"login", "welcome", "verify", "sso"})
RESET_LINK_TYPES = frozenset({"reset", "invite"})

# api-server §1.12 / concepts Appendix B; `sso` hand-offs are consumed at once by the
# browser, so they get the shortest life that survives a slow redirect.
DEFAULT_SECONDS: dict[str, int] = {
    "login": HOUR,
    "welcome": 3 * DAY,
    "verify": 3 * DAY,
    "reset": HOUR,
    "invite": HOUR,
    "sso": 10 * MINUTE,
}

# Longer than any uuid (36): refused before it becomes part of a DynamoDB key.
MAX_UUID_LENGTH = 64


class IssuedLink(NamedTuple):
    """A credential as handed to the caller; `token` exists in clear only here."""

    uuid: str
    token: str
    type: str
    expires_at: str
    item: store.LinkItem

    @property
    def expires_epoch(self) -> int:
        return int(self.item.expiresAt)


digest = secret_digest


def _check_type(link_type: str) -> None:
    if link_type not in LINK_TYPES:
        raise ValueError(f"unknown link type {link_type!r}")


def new_link_item(
    user: UserItem,
    link_type: str,
    seconds: int,
    *,
    purpose: dict[str, Any] | None = None,
) -> tuple[str, store.LinkItem]:
    """A fresh (token, item) pair, not yet written: for callers that add the item to a
    transaction with the change that issues it (an invited user and their link commit
    together or not at all). Call `revoke(user, RESET_LINK_TYPES)` first for reset links.
    """
    _check_type(link_type)
    token = str(uuid.uuid4())
    created = now()
    item = store.new_link_item(
        digest(token),
        user,
        link_type,
        created_at=iso(created) or now_iso(),
        expires_at=int(created.timestamp()) + int(seconds),
        purpose=purpose,
    )
    return token, item


def issued(user: UserItem, token: str, item: store.LinkItem) -> IssuedLink:
    return IssuedLink(
        uuid=user.userUuid,
        token=token,
        type=item.linkType,
        expires_at=iso(datetime.fromtimestamp(int(item.expiresAt), UTC)) or "",
        item=item,
    )


def issue(
    user: UserItem,
    link_type: str,
    seconds: int,
    *,
    purpose: dict[str, Any] | None = None,
) -> IssuedLink:
    """Create and store a link. A reset-type link revokes the user's earlier unused
    reset links first (concepts §6.2), so only the newest reset email works."""
    if link_type in RESET_LINK_TYPES:
        revoke(user, RESET_LINK_TYPES)
    token, item = new_link_item(user, link_type, seconds, purpose=purpose)
    store.put_link(item)
    return issued(user, token, item)


def revoke(user: UserItem, types: Iterable[str] | None = None) -> int:
    """Delete the user's pending links (of `types`, or all); returns how many."""
    pending = store.user_links(user.mode, user.tenantId, user.userUuid, types)
    store.delete_links(pending)
    return len(pending)


def redeem(
    mode: str,
    tenant_id: str,
    user_uuid: str,
    token: str,
    allowed_types: set[str] | frozenset[str],
) -> store.LinkItem:
    """Consume a credential atomically and return what it was bound to.

    Raises `Unauthorized("Invalid token")` for an unknown, used, expired, revoked or
    wrong-type token or a uuid that is not the link's user.
    """
    at = int(time.time())
    user_key = str(user_uuid)
    if not 0 < len(user_key) <= MAX_UUID_LENGTH:
        raise Unauthorized(INVALID_TOKEN)  # no user has it; and keys have a size limit
    item = None
    if isinstance(token, str) and token and len(token) <= 200:
        item = store.consume(
            digest(token),
            mode=mode,
            tenant_id=tenant_id,
            user_uuid=user_key,
            allowed_types=allowed_types,
            now=at,
        )
    if item is None:
        raise Unauthorized(INVALID_TOKEN)
    return item


def link_url(
    base_origin: str,
    path: str,
    uuid: str,
    token: str,
    link_type: str | None,
    redirect: str | None = None,
) -> str:
    """`{origin}{path}?uuid=…&token=…&type=…[&redirect=…]` (concepts §6.2).

    Reset links from the reset flow pass `link_type=None` (the reference omits `type`).
    """
    params: list[tuple[str, str]] = [("uuid", uuid), ("token", token)]
    if link_type:
        params.append(("type", link_type))
    if redirect:
        params.append(("redirect", redirect))
    separator = "&" if "?" in path else "?"
    return f"{base_origin.rstrip('/')}{path}{separator}{urlencode(params)}"


def workspace_id(tenant: tenant_store.TenantItem) -> str:
    """The root of the tenant's tree: live domains are configured there."""
    return tenant.ancestors[-1] if tenant.ancestors else tenant.tenantId


def server_origin(tenant: tenant_store.TenantItem) -> str:
    """Origin for links the server sends on its own (invites, API-initiated emails).

    The workspace's primary live domain (the first live domain of its live-mode
    settings) over https; `http://localhost:3000` when it has none, which is what a
    developer's test-mode front end uses (docs/emails.md).
    """
    live = settings.read("live", workspace_id(tenant))
    if live.liveDomains:
        return f"https://{live.liveDomains[0].domain}"
    return LOCAL_ORIGIN


def seconds_for(link_type: str, duration: str | None) -> int:
    """The requested lifetime, or the type's default when none was given."""
    if duration is None:
        if link_type not in DEFAULT_SECONDS:
            raise BadRequest('"options.type" is invalid')
        return DEFAULT_SECONDS[link_type]
    return parse_duration(duration)
