"""Password strategy: sign up (api-client §6.1) and log in (§7.1).

Log in never tells an unknown account from a wrong password: both answer the same
400, after the same DynamoDB reads and one argon2id verification (against a dummy
hash when there is no account), and both count against the same attempt limit.
Stored hashes made with older parameters are upgraded in the sign-in transaction,
on the condition that the hash is still the one that was verified.
"""

from __future__ import annotations

from typing import Any

from portcullis.auth import completion, identity, link, messages, reset
from portcullis.auth.context import RATE_LIMITED, Request
from portcullis.auth.inputs import SignUp
from portcullis.credentials import passwords
from portcullis.platform import background
from portcullis.platform.errors import BadRequest, Forbidden, TooManyRequests
from portcullis.ratelimit import attempts, fixedwindow, spraying
from portcullis.sessions.tokenauth import USER_LOCKED
from portcullis.store.users import UserItem

INCORRECT = "Incorrect email or password"


def sign_up(req: Request, body: SignUp) -> dict[str, Any]:
    req.require_first_factor("email", "password")
    address = identity.email(identity.required(body.email, "email is required"))
    secret = identity.required(body.password, "password is required")
    fields = identity.profile(username=body.username, name=body.name, data=body.data)
    fixedwindow.hit(
        "signupPerIp", req.limits.signupPerIp, req.mode, req.tenant_id, req.ip, message=RATE_LIMITED
    )
    if identity.find_by_email(req, address) is not None:
        raise BadRequest(identity.EMAIL_EXISTS)
    user = identity.new_user(req, email_address=address, password=secret, fields=fields)
    extra: list[Any] = []
    if not body.option("noSignupEmail") and not req.is_test:
        extra.extend(link.link_items(req, user, "welcome", address)[1])
    verified = completion.Verified(
        user, completion.PASSWORD, created=True, extra=extra, after_signup=True
    )
    return completion.finish(req, verified).body


def _find(req: Request, identifier: str) -> UserItem | None:
    if len(identifier) > identity.MAX_IDENTIFIER_LENGTH:
        return None  # no account has it (the dummy verify still runs); keys are size-limited
    if "@" in identifier:
        return identity.find_by_email(req, identifier.lower())
    return identity.find_by_username(req, identifier)


def log_in(
    req: Request,
    *,
    identifier: str | None,
    password: str | None,
    no_reset_email: bool = False,
    migrate: bool = False,
) -> dict[str, Any]:
    """Three DynamoDB calls when it succeeds: the user lookup, the account's attempt
    counter (sent while the password is checked), then the session transaction (which
    also refunds the attempt, stamps lastActiveAt and checks that the IP's failures are
    under `firstFactorFailuresPerIp`). A failure costs one more call: it is counted
    against the IP (ratelimit/spraying.py). `migrate` is `/auth/password/migrate`
    (§7.3): a user without a hash may be checked upstream (`auth/passthrough.py`), on
    either path; only `migrate` answers `upstreamResponse`."""
    req.require_first_factor("email", "password")
    typed = identity.required(identifier, "emailOrUsername is required").strip()
    secret = identity.required(password, "password is required")
    user = _find(req, typed)
    # Counted per ACCOUNT once it is known, so typing the email or the username (or
    # another case of either) draws on one budget; an unknown one by what was typed.
    # The count is on the wire while argon2id verifies, and settled (429 past the
    # limit, whatever the password) before the result is used.
    counting = background.start(attempts.count, req, "password", attempts.account_key(user, typed))
    upstream = None
    if user is None or not user.passwordHash:
        # Off the import path: only an account without a hash may go upstream.
        from portcullis.auth import passthrough

        upstream = passthrough.start(req, user)  # read while argon2id verifies
    matched = passwords.verify(user.passwordHash if user else None, secret)
    refund = counting.result()
    if not matched:
        stored = upstream.result() if upstream else None
        if stored is not None and passthrough.applies(stored, user, typed):
            return passthrough.log_in(req, stored, user, typed, secret, refund, migrate=migrate)
        if user is not None and not user.passwordHash:
            _no_password(req, user, no_reset_email)
        raise spraying.failed(req, BadRequest(INCORRECT))
    assert user is not None and user.passwordHash is not None
    if user.locked:
        raise Forbidden(USER_LOCKED)
    verified = completion.Verified(
        user,
        completion.PASSWORD,
        updates=[refund, spraying.guard(req)],
        # A password changed since it was read here must not be overwritten by a rehash,
        # nor signed in with: the old password is no longer the user's.
        expect={"passwordHash": user.passwordHash},
        conflict=BadRequest(INCORRECT),
        explain_conflict=lambda: spraying.refuse_if_exhausted(req),
    )
    if passwords.needs_rehash(user.passwordHash):
        verified.touch(passwordHash=passwords.hash_password(secret))
    return completion.finish(req, verified).body


def _no_password(req: Request, user: UserItem, no_reset_email: bool) -> None:
    """An account without a password (passwordless or SSO sign-up).

    With `options.noResetEmail` the docs require the `intended_error` type (which does
    reveal the account); otherwise a reset email goes out and the answer is exactly
    the wrong-password one (api-client §7.1).
    """
    if no_reset_email:
        raise spraying.failed(req, BadRequest(INCORRECT, error_type="intended_error"))
    if req.is_test or not user.email:
        return
    try:
        messages.limit_send(req, "email", user.email)
    except TooManyRequests:
        return  # answering 429 here would tell that the account exists
    reset.issue_link(req, user, user.email)
