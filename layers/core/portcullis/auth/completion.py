"""After a factor is verified: the one place that decides what the sign-in answers.

Every strategy (password, link, code, reset, TOTP, ...) ends by handing a `Verified`
to `finish`, which

1. decides the next step (api-client §11.4): the request completes a pending sign-in
   when it carries that sign-in's first-factor token and this factor is one of its
   second factors (rule 1); else a user who must use MFA gets §1.5 and a new token,
   with everything the first factor would change on the account deferred to the
   second factor (rule 2, `auth/mfa.py`); else the sign-in is complete (rule 3);
2. opens a session and writes it, in ONE transaction, with everything the strategy
   changed: the user (new, re-keyed, or just updated), links, outbox items, the
   refund of the attempt the strategy counted, and the use of the first-factor token;
3. answers §1.6 (PKCE: an authorization code) when the request carried
   `code_challenge`, else §1.4 (tokens; never a `firstFactorToken` key);
4. ends the user's other sessions and voids reset links when the strategy asked for it
   (a reset, a claimed account) — only once the sign-in is complete.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from portcullis.auth import identity, mfa
from portcullis.auth.context import Request
from portcullis.credentials import links, pkce
from portcullis.platform import background
from portcullis.platform.errors import BadRequest, Forbidden, PortcullisError
from portcullis.platform.timefmt import iso, now
from portcullis.sessions import lifecycle, webhookevents
from portcullis.store import sessions as session_store
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.store.sessions import SessionItem
from portcullis.store.tenants import TenantItem
from portcullis.store.users import UserItem
from portcullis.tenancy.settings import TenantSettings
from portcullis.tokens import claims as token_claims
from portcullis.users.conflicts import conflict_error
from portcullis.users.factors import authentication as user_factors
from portcullis.users.rendering import event_item

PASSWORD = {"strategy": "password", "channel": "email"}
LINK = {"strategy": "link", "channel": "email"}
CHANGED_MEANWHILE = "The account changed during sign-in, please try again"


def code_factor(channel: str) -> dict[str, str]:
    return {"strategy": "verificationCode", "channel": channel}


@dataclass
class Verified:
    """A user who just proved `factor`, and what must be written with the new session.

    `set()` changes profile fields on the in-memory user (so the tokens show them) and
    records them for the write. `previous` (the unique fields as read) means a unique
    field changes, so the user is saved whole with its guards moved; `created` means
    the user is new and is written with its guards and `user.create` event.
    """

    user: UserItem
    factor: dict[str, str]
    created: bool = False
    previous: dict[str, str | None] | None = None
    extra: list[user_store.Item] = field(default_factory=list)
    updates: list[transactions.Update] = field(default_factory=list)
    # Attributes of the record that must still hold the values read (None: absent) for
    # the write to commit, e.g. the password hash a password sign-in verified.
    expect: dict[str, str | None] = field(default_factory=dict)
    conflict: PortcullisError | None = None
    # Run when the transaction's conditions fail, before `conflict` is raised: a strategy
    # whose `updates` carry a limit's condition raises that limit's 429 here.
    explain_conflict: Callable[[], None] | None = None
    after_signup: bool = False
    authenticated_at: str | None = None
    changed: dict[str, Any] = field(default_factory=dict)
    quiet: dict[str, Any] = field(default_factory=dict)
    # Profile changes written with the factor's own writes even when a second factor is
    # still due (a TOTP activation: the authenticator is active either way).
    recorded: dict[str, Any] = field(default_factory=dict)
    # Once the sign-in is complete: end the user's other sessions for this reason, and
    # void their unused reset links (a reset; a claimed account).
    ends_other_sessions: str | None = None
    revokes_reset_links: bool = False
    # The pending sign-in this factor completes as its second factor, when the strategy
    # took the user from a first-factor token (code, TOTP). Password and link sign-ins
    # leave it None; `finish` looks the request's token up for them.
    pending: mfa.Pending | None = None

    def set(self, **fields: Any) -> None:
        """A profile change: written with the session, announced as `user.update`."""
        for name, value in fields.items():
            setattr(self.user, name, value)
            self.changed[name] = value

    def record(self, **fields: Any) -> None:
        """A profile change that belongs to the factor itself, not to the sign-in: never
        deferred to a second factor (see `recorded`)."""
        for name, value in fields.items():
            setattr(self.user, name, value)
            self.recorded[name] = value

    def touch(self, **fields: Any) -> None:
        """Bookkeeping (a password rehash): written with the session, not a change."""
        for name, value in fields.items():
            setattr(self.user, name, value)
            self.quiet[name] = value


class Step(Enum):
    COMPLETE = "complete"
    SECOND_FACTOR = "second_factor"


def next_step(req: Request, verified: Verified) -> Step:
    """§11.4 rules 2-3 for a factor that does not complete a pending sign-in."""
    if mfa.must_use(req.settings, verified.user):
        return Step.SECOND_FACTOR
    return Step.COMPLETE


def _completes(req: Request, verified: Verified) -> mfa.Pending | None:
    """§11.4 rule 1: the pending sign-in this factor completes, if any. A token of
    another user, or a factor it does not allow, leaves this a first factor."""
    if verified.pending is not None:
        return verified.pending
    pending = mfa.load(req)
    if pending is None or pending.user_id != int(verified.user.userId):
        return None
    return pending if pending.allows(verified.factor) else None


class Outcome(NamedTuple):
    session: SessionItem | None  # None: "MFA required" (§1.5), no session yet
    body: dict[str, Any]


def finish(req: Request, verified: Verified) -> Outcome:
    pending = _completes(req, verified)
    if pending is None and next_step(req, verified) is Step.SECOND_FACTOR:
        return _second_factor_required(req, verified)
    factors: dict[str, Any] = {"firstFactor": dict(verified.factor)}
    if pending is not None:
        _resume(pending, verified)
        factors = {"firstFactor": pending.first_factor, "secondFactor": dict(verified.factor)}
    at = int(time.time())
    user = verified.user
    user.lastActiveAt = iso(now())
    pkce_code = None
    session, jti = lifecycle.new_session(
        user,
        factors,
        ip=req.ip,
        user_agent=req.user_agent,
        refresh_seconds=req.settings.refreshTokenDuration,
        now=at,
        authenticated_at=verified.authenticated_at,
        with_refresh=req.code_challenge is None,
    )
    saves: list[user_store.Item] = [session]
    announced = webhookevents.created_item(session, req.settings, req.tenant.ancestors)
    if announced is not None:  # opt-in `session.create`, in the sign-in's transaction
        saves.append(announced)
    if pending is not None:
        verified.updates.append(pending.use_update(session.sessionId, int(session.expiresAt)))
    if req.code_challenge is not None:
        pkce_code, code_item = pkce.new_code(session, req.code_challenge, at)
        saves.append(code_item)
    saves.extend(verified.extra)
    answering = None
    if jti is not None and not verified.created:
        # The claims are final (a new user only gets its id in the write): sign and
        # render the answer while the transaction is in flight; dropped if it fails.
        answering = background.start(_answer, req, verified, session, at, jti)
    _commit(req, verified, saves)
    _after(verified, session)
    if pkce_code is not None:
        return Outcome(session, pkce.required_response(pkce_code, req.settings.loginRedirectPath))
    assert jti is not None
    body = answering.result() if answering else _answer(req, verified, session, at, jti)
    return Outcome(session, body)


def _after(verified: Verified, session: SessionItem) -> None:
    user = verified.user
    if verified.ends_other_sessions:
        lifecycle.end_all(
            user.mode,
            user.tenantId,
            int(user.userId),
            verified.ends_other_sessions,
            except_session=session.sessionId,
        )
    if verified.revokes_reset_links:
        links.revoke(user, links.RESET_LINK_TYPES)


# ------------------------------------------------------------------ the second factor


def _deferred(verified: Verified) -> dict[str, Any] | None:
    """What the first factor would change on the account, kept with the token and
    applied by the sign-in that completes it (`_resume`)."""
    deferred = {
        "changed": verified.changed,
        "quiet": verified.quiet,
        "unique": verified.previous is not None,
        "expect": verified.expect,
        "endsOtherSessions": verified.ends_other_sessions,
        "revokesResetLinks": verified.revokes_reset_links,
    }
    return deferred


def _resume(pending: mfa.Pending, verified: Verified) -> None:
    """Apply the first factor's deferred changes to this (second-factor) sign-in."""
    deferred = dict(pending.item.deferred or {})
    user = verified.user
    changed = dict(deferred.get("changed") or {})
    if deferred.get("unique") and verified.previous is None:
        verified.previous = {k: getattr(user, k) for k in user_store.GUARDED}
    verified.set(**changed)
    verified.touch(**dict(deferred.get("quiet") or {}))
    for name, value in dict(deferred.get("expect") or {}).items():
        verified.expect.setdefault(name, value)
    verified.ends_other_sessions = verified.ends_other_sessions or deferred.get("endsOtherSessions")
    verified.revokes_reset_links = verified.revokes_reset_links or bool(
        deferred.get("revokesResetLinks")
    )
    verified.after_signup = verified.after_signup or bool(pending.item.afterSignup)
    verified.touch(preferredSecondFactor=dict(verified.factor))


def _second_factor_required(req: Request, verified: Verified) -> Outcome:
    """§1.5: a new first-factor token, written with what the first factor must write
    now (a new user, the attempt refund, the IP guard, a TOTP activation); the account
    changes wait for the second factor. With no second factor left on another channel
    the sign-in cannot go on (403), but the factor's own writes still land."""
    user = verified.user
    allowed = mfa.allowed_after(req.settings, verified.factor)
    if not allowed and verified.created:
        raise Forbidden(mfa.NO_SECOND_FACTOR)
    token, item = mfa.new_token(
        req,
        user,
        verified.factor,
        allowed,
        deferred=None if verified.created else _deferred(verified),
        after_signup=verified.after_signup,
    )
    saves: list[user_store.Item] = [item] if allowed else []
    saves.extend(verified.extra)
    if verified.created:
        identity.create(req, user, saves, verified.updates)
        return Outcome(None, mfa.required_response(req, user, verified.factor, token))
    fields = {"lastActiveAt": user.lastActiveAt, **verified.recorded}
    guard = user_store.field_update(
        user, fields, bump_version=bool(verified.recorded), expect=verified.expect
    )
    if verified.recorded:
        saves.append(event_item("update", user, identity.renderer(req)))
    try:
        transactions.commit(saves, [guard, *verified.updates])
    except transactions.WriteConflict as exc:
        _explain(verified)
        raise verified.conflict or BadRequest(CHANGED_MEANWHILE) from exc
    if not allowed:
        raise Forbidden(mfa.NO_SECOND_FACTOR)
    return Outcome(None, mfa.required_response(req, user, verified.factor, token))


def _answer(
    req: Request, verified: Verified, session: SessionItem, at: int, jti: str
) -> dict[str, Any]:
    """The §1.4 body: the session's signed tokens and where to go next."""
    user = verified.user
    issued = lifecycle.sign(session, user, req.settings, at, jti, tenant_name=req.tenant.name)
    redirect = _redirect(req.settings, verified.after_signup)
    return signed_in(req.tenant, req.settings, user, session, issued, redirect)


def _redirect(tenant_settings: TenantSettings, after_signup: bool) -> str:
    if after_signup and tenant_settings.afterSignupPath:
        return tenant_settings.afterSignupPath
    return tenant_settings.loginRedirectPath


def _commit(req: Request, verified: Verified, saves: list[user_store.Item]) -> None:
    user = verified.user
    if verified.created:
        identity.create(req, user, saves, verified.updates)
        return
    if verified.changed or verified.recorded:
        saves.append(event_item("update", user, identity.renderer(req)))
    if verified.previous is not None:
        _save_whole(verified, saves)
        return
    fields = {
        "lastActiveAt": user.lastActiveAt,
        **verified.quiet,
        **verified.recorded,
        **verified.changed,
    }
    # A profile change bumps the version: a concurrent whole-record save must notice it.
    changes = verified.changed or verified.recorded
    user_update = user_store.field_update(
        user, fields, bump_version=bool(changes), expect=verified.expect
    )
    try:
        transactions.commit(
            saves,
            [user_update, *verified.updates],
            save_conditions={0: session_store.new_session_condition()},
        )
    except transactions.WriteConflict as exc:
        _explain(verified)
        raise verified.conflict or BadRequest(CHANGED_MEANWHILE) from exc


def _save_whole(verified: Verified, saves: list[user_store.Item]) -> None:
    """A unique field changes (a verified new email or phone number): save the record
    with its guards moved, in one transaction with the session and the strategy's
    updates. A concurrent edit of the record means trying again later."""
    assert verified.previous is not None
    try:
        extra = user_store.Extra(saves, [], list(verified.updates))
        user_store.save_user(verified.user, verified.previous, extra)
    except user_store.Conflict as exc:
        raise identity.client_conflict(conflict_error(exc)) from exc
    except (user_store.Changed, user_store.Contention) as exc:
        _explain(verified)
        raise verified.conflict or BadRequest(CHANGED_MEANWHILE) from exc


def _explain(verified: Verified) -> None:
    if verified.explain_conflict is not None:
        verified.explain_conflict()


def signed_in(
    tenant: TenantItem,
    tenant_settings: TenantSettings,
    user: UserItem,
    session: SessionItem,
    issued: token_claims.IssuedTokens,
    redirect_to: str | None,
) -> dict[str, Any]:
    """§1.4. Deliberately no `firstFactorToken` key: its mere presence would make the
    client take the MFA branch and drop the tokens."""
    body: dict[str, Any] = {"mode": user.mode, "message": "OK"}
    if redirect_to is not None:
        body["redirectTo"] = redirect_to
    confirmed = bool(user.isEmailConfirmed)
    body.update(
        {
            "sessionId": session.sessionId,
            "nonce": str(uuid.uuid4()),
            "tokens": issued.as_json(),
            "userId": int(user.userId),
            "tenantId": user.tenantId,
            "userUuid": user.userUuid,
            "username": user.username,
            "email": user.email,
            "phoneNumber": user.phoneNumber,
            "name": user.name or "",
            "image": user.image,
            "locked": bool(user.locked),
            "data": user.data or {},
            "isEmailConfirmed": confirmed,
            "isPhoneNumberConfirmed": bool(user.isPhoneNumberConfirmed),
            "isConfirmed": confirmed,
            "isMfaRequired": bool(user.isMfaRequired),
            "lastActiveAt": user.lastActiveAt,
            "createdAt": user.createdAt,
            "updatedAt": user.updatedAt,
            "tenant": {"tenantId": tenant.tenantId, "name": tenant.name},
            "authorization": token_claims.authorization(user),
            "authentication": user_factors(user, tenant_settings.authentication),
        }
    )
    return body
