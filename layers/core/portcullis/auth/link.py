"""Link strategy: passwordless sign-up / send login link (api-client §6.2, §7.4) and
log in with link credentials (§7.5).

Sending answers the same whether or not the address had an account: an unknown
address gets a new user and a welcome link, a known one a login link. Redeeming
consumes the credential atomically (`links.redeem`) and proves control of the
address, so the email becomes confirmed; a verify link carrying a pending new
address (§9.4) moves the user to it, guards and all, in the sign-in transaction.
"""

from __future__ import annotations

from typing import Any

from portcullis.auth import claim, completion, identity, messages
from portcullis.auth.context import RATE_LIMITED, Request
from portcullis.auth.inputs import SendLink
from portcullis.credentials import links
from portcullis.platform.errors import INVALID_TOKEN, BadRequest, Forbidden, Unauthorized
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import authfailures, perip
from portcullis.sessions.tokenauth import USER_LOCKED
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.store.links import LinkItem
from portcullis.store.users import UserItem

MISSING_CREDENTIALS = "token and uuid are required"


def link_items(
    req: Request,
    user: UserItem,
    link_type: str,
    to: str,
    *,
    redirect: str | None = None,
    purpose: dict[str, Any] | None = None,
) -> tuple[str, list[Any]]:
    """A login-path link of `link_type` and (live mode) its email: (url, items to write)."""
    seconds = links.DEFAULT_SECONDS[link_type]
    token, link_item = links.new_link_item(user, link_type, seconds, purpose=purpose)
    url = links.link_url(
        req.link_origin(),
        req.settings.logoutRedirectPath,
        user.userUuid,
        token,
        link_type,
        redirect,
    )
    items: list[Any] = [link_item]
    if messages.writes_message(req, "email", link_type):
        expires_at = links.issued(user, token, link_item).expires_at
        items.append(
            messages.email_item(
                req, user, link_type, to, seconds, link=url, expires_at=expires_at, user_email=to
            )
        )
    return url, items


def send(req: Request, body: SendLink) -> dict[str, Any]:
    req.require_first_factor("email", "link")
    redirect = req.redirect(body.option("redirect"))
    no_signup_email = bool(body.option("noSignupEmail"))
    address = identity.email(identity.required(body.email, "email is required"))
    messages.limit_send(req, "email", address)
    user = identity.find_by_email(req, address)
    if user is None:
        fields = identity.profile(username=body.username, name=body.name, data=body.data)
        created = identity.new_user(req, email_address=address, fields=fields)
        url: str | None = None
        items: list[Any] = []
        if not no_signup_email:
            url, items = link_items(req, created, "welcome", address, redirect=redirect)
        user = identity.create_or_find(
            req, created, items, identity.EMAIL_EXISTS, lambda: identity.find_by_email(req, address)
        )
        if user is None:
            return _sent(req, address, url)
    url, items = link_items(req, user, "login", address, redirect=redirect)
    transactions.commit(items, [])
    return _sent(req, address, None if no_signup_email else url)


def _sent(req: Request, address: str, url: str | None) -> dict[str, Any]:
    """§1.7; `{ "message": "OK" }` alone after `options.noSignupEmail` (seen in docs)."""
    if url is None:
        return {"message": "OK"}
    return messages.answer(req, messages.Sent("email", address, link=url))


def redeem(req: Request, uuid: str, token: str, types: frozenset[str]) -> tuple[LinkItem, UserItem]:
    """Use up a link of one of `types` and load its user: 401 for a link that is not
    (or no longer) valid or whose user is gone, 403 for a locked user.

    A bad link counts against the caller's IP (`authFailuresPerIp`, 429 past it), not
    against the uuid it names: uuids are public, and a per-user count would let anyone
    lock a victim out of link log-in and reset (issue 8 item 10)."""
    try:
        item = links.redeem(req.mode, req.tenant_id, uuid.strip().lower(), token, types)
        user = user_store.get_user(req.mode, req.tenant_id, int(item.userId))
        if user is None or user.userUuid != item.userUuid:
            raise Unauthorized(INVALID_TOKEN)
    except Unauthorized as exc:
        raise authfailures.failed(
            req.ip, lambda: req.limits.authFailuresPerIp, exc, message=RATE_LIMITED
        ) from None
    if user.locked:
        raise Forbidden(USER_LOCKED)
    return item, user


def log_in(req: Request, *, token: str | None, uuid: str | None) -> dict[str, Any]:
    """The client's `linkType` is ignored (older clients omit it): the stored type
    decides, and reset links are refused here whatever the client says."""
    perip.count_request(req.mode, req.tenant_id, req.ip, req.limits)
    if not token or not uuid:
        raise BadRequest(MISSING_CREDENTIALS)
    item, user = redeem(req, uuid, token, links.LOGIN_LINK_TYPES)
    verified = completion.Verified(
        user,
        completion.LINK,
        after_signup=item.linkType in ("welcome", "sso") and user.lastActiveAt is None,
        conflict=Unauthorized(INVALID_TOKEN),
    )
    stamp = now_iso()
    claimed = False
    new_email = (item.purpose or {}).get("email") if item.linkType == "verify" else None
    if isinstance(new_email, str) and new_email != user.email:
        verified.previous = {k: getattr(user, k) for k in user_store.GUARDED}
        verified.set(
            email=new_email, isEmailConfirmed=True, confirmedEmailAt=stamp, updatedAt=stamp
        )
    elif not user.isEmailConfirmed and (
        item.linkType != "sso" or (item.purpose or {}).get("emailVerified") is True
    ):
        # An `sso` hand-off proves the address only when the provider said it verified
        # it (portcullis/sso/flow.py); otherwise it proves the provider identity alone.
        claimed = claim.confirm(verified, "email", stamp)
    return claim.finish(req, verified, claimed)
