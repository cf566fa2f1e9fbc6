"""Verify an email address (api-client §9.9, and change it: §9.4) or a phone number (§9.10).

With an access token the user is the token's: a different address or number becomes a
pending change that only takes effect when the link or code sent to it is used, so a
stolen access token alone cannot move an account to an attacker's mailbox or phone.
Without a token only an existing user's current address or number can be (re)verified,
and an unknown one gets the same answer with nothing sent; in live mode an email's
lookup and link happen in an outbox task (`auth.deferred`), so the request does the
same work for both.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from portcullis.auth import context, deferred, identity, link, messages
from portcullis.auth.context import Request
from portcullis.auth.inputs import VerifyEmail, VerifyPhone
from portcullis.platform.errors import BadRequest
from portcullis.sessions import tokenauth
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.store.users import UserItem


class Client(NamedTuple):
    """Who calls a verify endpoint, which may be signed in or not (§9.9–9.10)."""

    authorization: str | None
    origin: str | None
    ip: str
    user_agent: str | None


def _caller(tenant_id: str | None, client: Client) -> tuple[Request, UserItem | None]:
    """The token's user when a bearer is sent (401 if it is bad), else none. A legacy
    call with a token but no `tenantId` acts in the token's tenant, like update password."""
    origin, ip, user_agent = client.origin, client.ip, client.user_agent
    if not (client.authorization or "").strip():
        tenant = context.tenant_from(None, tenant_id)
        return context.load(tenant, origin=origin, ip=ip, user_agent=user_agent), None
    # The sends below count `sendPerIp`, so `requestsPerIp` does not count this too.
    caller = tokenauth.authenticate(client.authorization, ip, counted=False)
    caller.require_tenant(tenant_id)
    return context.token_request(caller, origin=origin, ip=ip, user_agent=user_agent), caller.user


def _same_user(user: UserItem, user_id: int | None, user_uuid: str | None) -> None:
    if user_id is not None and user_id != int(user.userId):
        raise BadRequest("userId does not match")
    if user_uuid is not None and user_uuid.strip().lower() != user.userUuid:
        raise BadRequest("userUuid does not match")


def verify_email(tenant_id: str | None, client: Client, body: VerifyEmail) -> dict[str, Any]:
    req, user = _caller(tenant_id, client)
    redirect = req.redirect(body.option("redirect"))
    address: str | None
    if user is None:
        # Live: the same work for known and unknown addresses (auth.deferred).
        address, user = deferred.account_to_send(req, "verify", body.email, redirect)
        if user is None:
            return messages.answer(req, messages.Sent("email", address))
        purpose = None
    else:
        _same_user(user, body.userId, body.userUuid)
        current = user.email
        address = identity.email(body.email) if body.email else current
        if not address:
            raise BadRequest("email is required")
        messages.limit_send(req, "email", address)
        purpose = None
        if address != current:
            if identity.find_by_email(req, address) is not None:
                raise BadRequest(identity.EMAIL_EXISTS)
            purpose = {"email": address}
    url, items = link.link_items(req, user, "verify", address, redirect=redirect, purpose=purpose)
    transactions.commit(items, [])
    return messages.answer(req, messages.Sent("email", address, link=url))


def verify_phone(tenant_id: str | None, client: Client, body: VerifyPhone) -> dict[str, Any]:
    req, user = _caller(tenant_id, client)
    number = identity.phone(identity.required(body.phoneNumber, "phoneNumber is required"))
    pending = None
    if user is None:
        messages.limit_send(req, "sms", number)
        user = identity.find_by_phone(req, number)
        if user is None:
            return messages.answer(req, messages.Sent("sms", number))
    else:
        _same_user(user, body.userId, body.userUuid)
        messages.limit_send(req, "sms", number)
        if number != user.phoneNumber:
            owner = user_store.user_id_by_guard(req.mode, req.tenant_id, "phoneNumber", number)
            if owner is not None and owner != int(user.userId):
                raise BadRequest(identity.PHONE_EXISTS)
            pending = number
    from portcullis.auth import code  # off auth's import path: only phone codes use it

    sent_code, items = code.code_items(req, user, "sms", number, pending_phone_number=pending)
    transactions.commit(items, [])
    return messages.answer(req, messages.Sent("sms", number, code=sent_code))
