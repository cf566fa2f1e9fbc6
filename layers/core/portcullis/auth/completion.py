"""After a factor is verified: the one place that decides what the sign-in answers.

Every strategy (password, link, code, reset, ...) ends by handing a `Verified` to
`finish`, which

1. asks `next_step` whether this sign-in is complete or needs a second factor
   (api-client §11.4) — the MFA branch plugs in there and nowhere else;
2. opens a session and writes it, in ONE transaction, with everything the strategy
   changed: the user (new, re-keyed, or just updated), links, outbox items, and the
   refund of the attempt the strategy counted;
3. answers §1.6 (PKCE: an authorization code) when the request carried
   `code_challenge`, else §1.4 (tokens; never a `firstFactorToken` key).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from portcullis.auth import identity
from portcullis.auth.context import Request
from portcullis.credentials import pkce
from portcullis.platform import background
from portcullis.platform.errors import BadRequest, Forbidden, PortcullisError
from portcullis.platform.timefmt import iso, now
from portcullis.sessions import lifecycle
from portcullis.store import sessions as session_store
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.store.sessions import SessionItem
from portcullis.store.tenants import TenantItem
from portcullis.store.users import UserItem
from portcullis.tenancy.settings import TenantSettings
from portcullis.tokens import claims as token_claims
from portcullis.users.conflicts import conflict_error
from portcullis.users.rendering import event_item

PASSWORD = {"strategy": "password", "channel": "email"}
LINK = {"strategy": "link", "channel": "email"}
MFA_UNAVAILABLE = "This account requires a second factor, which this server cannot verify yet"
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

    def set(self, **fields: Any) -> None:
        """A profile change: written with the session, announced as `user.update`."""
        for name, value in fields.items():
            setattr(self.user, name, value)
            self.changed[name] = value

    def touch(self, **fields: Any) -> None:
        """Bookkeeping (a password rehash): written with the session, not a change."""
        for name, value in fields.items():
            setattr(self.user, name, value)
            self.quiet[name] = value


class Step(Enum):
    COMPLETE = "complete"
    SECOND_FACTOR = "second_factor"


def refuse_if_all_need_a_second_factor(req: Request) -> None:
    """Called before a strategy uses up a single-use credential (link, code): when the
    tenant requires a second factor of everyone, `finish` would refuse anyway, and the
    credential must not be burnt for nothing. (A user-level requirement is only known
    once the user is loaded; `finish` refuses that case.)"""
    tenant_settings = req.settings
    if tenant_settings.authentication.secondFactors and tenant_settings.mfa.policy == "all":
        raise Forbidden(MFA_UNAVAILABLE)


def next_step(req: Request, verified: Verified) -> Step:
    """api-client §11.4 rules 2-3 (rule 1, a second factor presented with a
    firstFactorToken, belongs to the MFA module): a second factor is needed when the
    tenant offers one and its policy or the user requires it (README rule 6)."""
    tenant_settings = req.settings
    if not tenant_settings.authentication.secondFactors:
        return Step.COMPLETE
    if tenant_settings.mfa.policy == "all" or verified.user.isMfaRequired:
        return Step.SECOND_FACTOR
    return Step.COMPLETE


@dataclass(frozen=True)
class Outcome:
    session: SessionItem
    body: dict[str, Any]


def finish(req: Request, verified: Verified) -> Outcome:
    if next_step(req, verified) is Step.SECOND_FACTOR:
        # Fail closed: without the MFA module a second factor cannot be checked, and
        # completing on one factor would ignore the tenant's policy.
        raise Forbidden(MFA_UNAVAILABLE)
    at = int(time.time())
    user = verified.user
    user.lastActiveAt = iso(now())
    pkce_code = None
    session, jti = lifecycle.new_session(
        user,
        {"firstFactor": dict(verified.factor)},
        ip=req.ip,
        user_agent=req.user_agent,
        refresh_seconds=req.settings.refreshTokenDuration,
        now=at,
        authenticated_at=verified.authenticated_at,
        with_refresh=req.code_challenge is None,
    )
    saves: list[user_store.Item] = [session]
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
    if pkce_code is not None:
        return Outcome(session, pkce.required_response(pkce_code, req.settings.loginRedirectPath))
    assert jti is not None
    body = answering.result() if answering else _answer(req, verified, session, at, jti)
    return Outcome(session, body)


def _answer(
    req: Request, verified: Verified, session: SessionItem, at: int, jti: str
) -> dict[str, Any]:
    """The §1.4 body: the session's signed tokens and where to go next."""
    user = verified.user
    issued = lifecycle.sign(session, user, req.settings, at, jti)
    redirect = _redirect(req.settings, verified.after_signup)
    return signed_in(req.tenant, req.settings, user, session, issued, redirect)


def _redirect(tenant_settings: TenantSettings, after_signup: bool) -> str:
    if after_signup and tenant_settings.afterSignupPath:
        return tenant_settings.afterSignupPath
    return tenant_settings.loginRedirectPath


def _commit(req: Request, verified: Verified, saves: list[user_store.Item]) -> None:
    user = verified.user
    if verified.created:
        identity.create(req, user, saves)
        return
    if verified.changed:
        saves.append(event_item("update", user, identity.renderer(req)))
    if verified.previous is not None:
        _save_whole(verified, saves)
        return
    fields = {"lastActiveAt": user.lastActiveAt, **verified.quiet, **verified.changed}
    # A profile change bumps the version: a concurrent whole-record save must notice it.
    user_update = user_store.field_update(
        user, fields, bump_version=bool(verified.changed), expect=verified.expect
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
            "authentication": tenant_settings.authentication.model_dump(mode="json"),
        }
    )
    return body
