"""Password reset: send the reset email (api-client §8.1) and reset with link
credentials (§8.2).

An unknown address gets the same answer as a known one and nothing is sent; in live
mode the request does the same work for both (`auth.deferred`: the lookup and the
link happen in an outbox task), so neither the answer nor its timing tells them apart. A new
reset link voids the earlier unused ones. A completed reset signs the user in, marks
the address confirmed (the link proved it), and ends every other session of the
user and any other reset link, because a reset usually follows a suspected compromise.
"""

from __future__ import annotations

from typing import Any

from portcullis.auth import claim, completion, deferred, link, messages
from portcullis.auth.context import Request
from portcullis.credentials import links, passwords
from portcullis.platform.errors import INVALID_TOKEN, BadRequest, Unauthorized
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import perip
from portcullis.store import transactions
from portcullis.store.users import UserItem

MISSING = "token, uuid and password are required"


def send_link(req: Request, *, email: str | None, redirect: str | None = None) -> dict[str, Any]:
    req.require_first_factor("email", "password")
    redirect = req.redirect(redirect)
    # Live: the same work for every address; the lookup and the link go behind the outbox.
    address, user = deferred.account_to_send(req, "reset", email, redirect)
    if user is None:
        return messages.answer(req, messages.Sent("email", address))
    url = issue_link(req, user, address, redirect)
    return messages.answer(req, messages.Sent("email", address, link=url))


def issue_link(req: Request, user: UserItem, address: str, redirect: str | None = None) -> str:
    """Void the user's unused reset links, then write a new one and (live) its email."""
    links.revoke(user, links.RESET_LINK_TYPES)
    seconds = links.DEFAULT_SECONDS["reset"]
    token, link_item = links.new_link_item(user, "reset", seconds)
    url = links.link_url(
        req.link_origin(), req.settings.resetPasswordPath, user.userUuid, token, None, redirect
    )
    items: list[Any] = [link_item]
    if messages.writes_message(req, "email", "reset"):
        expires_at = links.issued(user, token, link_item).expires_at
        items.append(
            messages.email_item(
                req, user, "reset", address, seconds, link=url, expires_at=expires_at
            )
        )
    transactions.commit(items, [])
    return url


def reset(
    req: Request, *, uuid: str | None, token: str | None, password: str | None
) -> dict[str, Any]:
    perip.count_request(req.mode, req.tenant_id, req.ip, req.limits)
    if not uuid or not token or not password:
        raise BadRequest(MISSING)
    # Checked before the link is consumed: a rejected password must not burn the link.
    passwords.check_policy(password, req.mode)
    item, user = link.redeem(req, uuid, token, links.RESET_LINK_TYPES)
    stamp = now_iso()
    verified = completion.Verified(
        user, completion.PASSWORD, authenticated_at=stamp, conflict=Unauthorized(INVALID_TOKEN)
    )
    # A first proof of the address also drops a still unconfirmed phone number (claim.py),
    # except for an invitation: the admin who invited the user vouched for the record.
    # The password, sessions and other links go below in any case.
    if item.linkType != "invite":
        claim.apply(verified, "email", stamp)
    verified.set(
        passwordHash=passwords.hash_password(password),
        passwordChangedAt=stamp,
        isEmailConfirmed=True,
        confirmedEmailAt=user.confirmedEmailAt or stamp,
        updatedAt=stamp,
    )
    # Once signed in (after the second factor, when one is due): the other sessions and
    # reset links go, since a reset usually follows a suspected compromise.
    verified.ends_other_sessions = "password_change"
    verified.revokes_reset_links = True
    return completion.finish(req, verified).body
