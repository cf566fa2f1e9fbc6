"""Verification-code strategy: send a code by SMS or email (api-client §6.3, §7.6) and
log in with it (§7.7), as a first factor or as the second factor of a pending sign-in.

As a first factor, sending finds the user by the phone number or email, or creates one
from the given attributes, and answers the same either way. Logging in needs the same
channel and target the code was sent to. A code sent by "verify phone" (§9.10) carries
the new number, which becomes the user's confirmed `phoneNumber` when the code is used.

With a usable first-factor token (§11.6) the code is a second factor: the user is the
token's, the channel must be one of the token's second factors, and the code goes to
the user's own verified phone or email. While the user has no second factor yet, an
SMS may go to a new number (set-up, §11.3): the token and the code remember it, and the
sign-in that uses the code makes it the user's confirmed `phoneNumber`. Identifiers the
client still sends must be the user's. A wrong code counts against the token too (it
dies after `mfa.MAX_FAILURES`); the right one completes the sign-in (`completion`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from portcullis.auth import claim, completion, identity, messages, mfa
from portcullis.auth.context import Request
from portcullis.auth.inputs import CodeLogIn, SendCode
from portcullis.credentials import codes
from portcullis.platform.errors import BadRequest, Forbidden
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import attempts, spraying
from portcullis.sessions.tokenauth import USER_LOCKED
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.store.codes import CodeItem
from portcullis.store.users import UserItem

CHANNELS = ("sms", "email")
BAD_CHANNEL = 'channel must be "sms" or "email"'
# The second-factor answers of §7.6 / §11.6 (the user is known from the token, so
# they reveal nothing about other accounts).
NO_PHONE = '"phoneNumber" not found or not yet verified'
NO_EMAIL = '"email" not found or not yet verified'
PHONE_MISMATCH = "phoneNumber does not match"
EMAIL_MISMATCH = "email does not match"


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
    if messages.writes_message(req, channel, messages.CODE_TYPE):
        if channel == "sms":
            items.append(messages.sms_item(req, user, target, codes.CODE_SECONDS, code))
        else:
            items.append(
                messages.email_item(
                    req, user, "code", target, codes.CODE_SECONDS, verification_code=code
                )
            )
    return code, items


def _factor(req: Request, channel: str | None) -> tuple[str, Second | None]:
    """The channel and the pending sign-in this request continues; without one (None) it
    is a first factor, which the tenant must allow on this channel."""
    kind = _channel(channel)
    second = _second_factor(req, kind)
    if second is None:
        req.require_first_factor(kind, "verificationCode")
    return kind, second


def send(req: Request, body: SendCode) -> dict[str, Any]:
    kind, second = _factor(req, body.channel)
    if second is not None:
        return _send_second(req, body, kind, second)
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
    kind, second = _factor(req, body.channel)
    if second is not None:
        return _log_in_second(req, body, kind, second)
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
    verified = _verified(req, user, kind, refund, invalid)
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


# ------------------------------------------------------------------ as a second factor


class Second(NamedTuple):
    """A code request that is the second factor of a pending sign-in."""

    pending: mfa.Pending
    user: UserItem

    @property
    def verified_phone(self) -> str | None:
        user = self.user
        return user.phoneNumber if user.phoneNumber and user.isPhoneNumberConfirmed else None

    @property
    def pending_phone(self) -> str | None:
        return self.pending.item.pendingPhoneNumber


def _second_factor(req: Request, kind: str) -> Second | None:
    """The pending sign-in this code request belongs to, when the request carries a
    usable first-factor token (else None: a first factor). The channel must be one of
    the token's second factors (400 otherwise, §7.6)."""
    pending = mfa.load(req)
    if pending is None:
        return None
    pending.require(completion.code_factor(kind))
    user = user_store.get_user(req.mode, req.tenant_id, pending.user_id, consistent=True)
    if user is None:
        return None  # the account is gone: the token is as good as unknown
    return Second(pending, user)


def _same_email(user: UserItem, email: str | None) -> None:
    """An `email` the client still sends must be the user's (§11.6)."""
    if email is not None and identity.email(email) != (user.email or "").lower():
        raise BadRequest(EMAIL_MISMATCH)


def _send_second(req: Request, body: SendCode, kind: str, second: Second) -> dict[str, Any]:
    user = second.user
    _same_email(user, body.email)
    pending_phone = None
    if kind == "sms":
        target, pending_phone = _sms_target_to_send(req, body.phoneNumber, second)
    else:
        target = _email_target_to_send(second)
    messages.limit_send(req, kind, target)
    if pending_phone is not None and not second.pending.set_pending_phone(pending_phone):
        # Used up or expired since it was read: what a stale token gets (§11.6).
        raise BadRequest(mfa.NOT_ALLOWED)
    code, items = code_items(req, user, kind, target, pending_phone_number=pending_phone)
    transactions.commit(items, [])
    return messages.answer(req, messages.Sent(kind, target, code=code))


def _sms_target_to_send(
    req: Request, phone_number: str | None, second: Second
) -> tuple[str, str | None]:
    """Where a second-factor SMS goes: (number, the number being set up or None)."""
    verified = second.verified_phone
    if phone_number is None:
        if verified is None:
            raise BadRequest(NO_PHONE)
        return verified, None
    number = identity.phone(phone_number)
    if verified is not None:
        if number != verified:
            raise BadRequest(PHONE_MISMATCH)
        return verified, None
    if not second.pending.may_enrol(second.user):
        raise Forbidden(mfa.ALREADY_SET_UP)
    # Set-up: the number must not be another user's (like verify phone, §9.10).
    owner = user_store.user_id_by_guard(req.mode, req.tenant_id, "phoneNumber", number)
    if owner is not None and owner != int(second.user.userId):
        raise BadRequest(identity.PHONE_EXISTS)
    return number, number


def _email_target_to_send(second: Second) -> str:
    """A second-factor email goes to the user's own address. An address not yet proved
    is a new second factor: only while the user has none (§11.6)."""
    user = second.user
    if not user.email:
        raise BadRequest(NO_EMAIL)
    if not user.isEmailConfirmed and not second.pending.may_enrol(user):
        raise Forbidden(mfa.ALREADY_SET_UP)
    return user.email


def _log_in_target(body: CodeLogIn, kind: str, second: Second) -> str:
    """The target of a second-factor code: the user's verified phone or email, or the
    number this sign-in is setting up. Identifiers sent anyway must be those."""
    user = second.user
    _same_email(user, body.email)
    if kind == "email":
        if not user.email:
            raise BadRequest(NO_EMAIL)
        return user.email
    known = [n for n in (second.pending_phone, second.verified_phone) if n]
    if body.phoneNumber is not None:
        number = identity.phone(body.phoneNumber)
        if number not in known:
            raise BadRequest(PHONE_MISMATCH)
        return number
    if not known:
        raise BadRequest(NO_PHONE)
    return known[0]


def _code_fits(item: CodeItem, kind: str, target: str, second: Second) -> bool:
    """The code was sent to this user, for this target: its verified address, or the
    number this very sign-in is setting up (not one of another request)."""
    user = second.user
    if int(item.userId) != int(user.userId):
        return False
    if kind == "email":
        return item.pendingPhoneNumber is None and (user.email or "").lower() == target
    if item.pendingPhoneNumber is not None:
        return item.pendingPhoneNumber == target == second.pending_phone
    return target == second.verified_phone


def _log_in_second(req: Request, body: CodeLogIn, kind: str, second: Second) -> dict[str, Any]:
    code = identity.required(body.verificationCode, "verificationCode is required")
    target = _log_in_target(body, kind, second)
    refund = attempts.count(req, "verificationCode", f"{kind}:{target}")
    invalid = BadRequest(codes.INVALID_CODE)
    try:
        item = codes.redeem(req.mode, req.tenant_id, kind, target, str(code).strip())
        if not _code_fits(item, kind, target, second):
            raise invalid
    except BadRequest as exc:
        second.pending.count_failure()
        raise spraying.failed(req, exc) from None
    user = second.user
    if user.locked:
        raise Forbidden(USER_LOCKED)
    verified = _verified(req, user, kind, refund, invalid, second.pending)
    second.pending.keep_proved(kind)
    _confirm_second(verified, kind, item.pendingPhoneNumber)
    return claim.finish(req, verified, False)


def _confirm_second(verified: completion.Verified, kind: str, set_up: str | None) -> None:
    """The channel a second factor proved becomes confirmed; a number being set up
    becomes the user's `phoneNumber` (its guard moves in the sign-in transaction).

    Not a claim (`auth/claim.py`): the person who proved this address also just passed
    a first factor of the account, and a first factor that was itself the first proof
    of an address carries its own claim, applied with this sign-in (`completion`).
    Claiming here would also drop the other channel whose proof is still deferred."""
    user = verified.user
    stamp = now_iso()
    if set_up is not None and set_up != user.phoneNumber:
        verified.previous = {k: getattr(user, k) for k in user_store.GUARDED}
        verified.set(phoneNumber=set_up)
    flag, confirmed_at = claim.CONFIRMED[kind]
    if not getattr(user, flag) or verified.previous is not None:
        verified.set(**{flag: True, confirmed_at: stamp}, updatedAt=stamp)


def _verified(
    req: Request,
    user: UserItem,
    kind: str,
    refund: transactions.Update,
    invalid: BadRequest,
    pending: mfa.Pending | None = None,
) -> completion.Verified:
    """A code that checked out, for `completion.finish`: the attempt is refunded and the
    IP's failure budget checked in the sign-in's transaction; `pending` when the code is
    the second factor of that sign-in."""
    return completion.Verified(
        user,
        completion.code_factor(kind),
        updates=[refund, spraying.guard(req)],
        conflict=invalid,
        explain_conflict=lambda: spraying.refuse_if_exhausted(req),
        pending=pending,
    )
