"""Verification-code strategy: send a code by SMS or email (api-client §6.3, §7.6) and
log in with it (§7.7).

Sending finds the user by the phone number or email, or creates one from the given
attributes, and answers the same either way. Logging in needs the same channel and
target the code was sent to. A code sent by "verify phone" (§9.10) carries the new
number, which becomes the user's confirmed `phoneNumber` when the code is used.
"""

from __future__ import annotations

from typing import Any

from portcullis.auth import claim, completion, identity, messages
from portcullis.auth.context import Request
from portcullis.auth.inputs import CodeLogIn, SendCode
from portcullis.credentials import codes
from portcullis.platform.errors import BadRequest, Forbidden
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import attempts, spraying
from portcullis.sessions.tokenauth import USER_LOCKED
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.store.users import UserItem

CHANNELS = ("sms", "email")
BAD_CHANNEL = 'channel must be "sms" or "email"'


def _channel(value: str | None) -> str:
    if value not in CHANNELS:
        raise BadRequest(BAD_CHANNEL)
    return str(value)


def _target(channel: str, phone_number: str | None, email: str | None) -> str:
    if channel == "sms":
        return identity.phone(identity.required(phone_number, "phoneNumber is required"))
    return identity.email(identity.required(email, "email is required"))


def code_items(
    req: Request,
    user: UserItem,
    channel: str,
    target: str,
    *,
    pending_phone_number: str | None = None,
) -> tuple[str, list[Any]]:
    """A new code for `target` and (live mode) its SMS or email: (code, items to write)."""
    code, item = codes.new_code(
        req.mode,
        req.tenant_id,
        channel,
        target,
        user_id=int(user.userId),
        purpose="verifyPhone" if pending_phone_number else "signin",
        pending_phone_number=pending_phone_number,
    )
    items: list[Any] = [item]
    if not req.is_test:
        if channel == "sms":
            items.append(messages.sms_item(req, user, target, codes.CODE_SECONDS, code))
        else:
            items.append(
                messages.email_item(
                    req, user, "code", target, codes.CODE_SECONDS, verification_code=code
                )
            )
    return code, items


def send(req: Request, body: SendCode) -> dict[str, Any]:
    kind = _channel(body.channel)
    req.require_first_factor(kind, "verificationCode")
    target = _target(kind, body.phoneNumber, body.email)
    extra_email = identity.email(body.email) if kind == "sms" and body.email else None
    messages.limit_send(req, kind, target)
    user = _find(req, kind, target)
    if user is None:
        fields = identity.profile(username=body.username, name=body.name, data=body.data)
        created = identity.new_user(
            req,
            email_address=target if kind == "email" else extra_email,
            phone_number=target if kind == "sms" else None,
            fields=fields,
        )
        code, items = code_items(req, created, kind, target)
        taken = identity.EMAIL_EXISTS if kind == "email" else identity.PHONE_EXISTS
        user = identity.create_or_find(req, created, items, taken, lambda: _find(req, kind, target))
        if user is None:
            return messages.answer(req, messages.Sent(kind, target, code=code))
    code, items = code_items(req, user, kind, target)
    transactions.commit(items, [])
    return messages.answer(req, messages.Sent(kind, target, code=code))


def _find(req: Request, kind: str, target: str) -> UserItem | None:
    if kind == "sms":
        return identity.find_by_phone(req, target)
    return identity.find_by_email(req, target)


def log_in(req: Request, body: CodeLogIn) -> dict[str, Any]:
    kind = _channel(body.channel)
    req.require_first_factor(kind, "verificationCode")
    code = identity.required(body.verificationCode, "verificationCode is required")
    target = _target(kind, body.phoneNumber, body.email)
    refund = attempts.count(req, "verificationCode", f"{kind}:{target}")
    invalid = BadRequest(codes.INVALID_CODE)
    try:
        item = codes.redeem(req.mode, req.tenant_id, kind, target, str(code).strip())
        user = user_store.get_user(req.mode, req.tenant_id, int(item.userId))
        if user is None:
            raise invalid
        pending = item.pendingPhoneNumber if kind == "sms" else None
        current = user.phoneNumber if kind == "sms" else user.email
        if pending is None and (current or "").lower() != target.lower():
            raise invalid  # the account moved to another address since the code was sent
    except BadRequest as exc:
        # A wrong code is a failed first factor of this IP (password spraying's twin).
        raise spraying.failed(req, exc) from None
    if user.locked:
        raise Forbidden(USER_LOCKED)
    verified = completion.Verified(
        user,
        completion.code_factor(kind),
        updates=[refund, spraying.guard(req)],
        conflict=invalid,
        explain_conflict=lambda: spraying.refuse_if_exhausted(req),
    )
    stamp = now_iso()
    claimed = False
    if pending is not None and pending != user.phoneNumber:
        verified.previous = {k: getattr(user, k) for k in user_store.GUARDED}
        verified.set(
            phoneNumber=pending,
            isPhoneNumberConfirmed=True,
            confirmedPhoneNumberAt=stamp,
            updatedAt=stamp,
        )
    elif not (user.isPhoneNumberConfirmed if kind == "sms" else user.isEmailConfirmed):
        claimed = claim.confirm(verified, kind, stamp)
    return claim.finish(req, verified, claimed)
