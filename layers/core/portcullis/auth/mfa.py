"""The second factor of a sign-in (api-client §1.5, §11; concepts §10): who needs one,
which ones a user may use, and the first-factor token that carries a sign-in from the
first factor to the second.

A first factor that succeeds for a user who must use MFA (tenant policy `"all"` or the
user's `isMfaRequired`, and the tenant lists second factors) answers §1.5 with a new
token `uf_{mode}_first_factor_{32 hex}`. Only its SHA-256 digest is stored, with the
tenant, mode, user, the factor just passed, the second factors it may complete with,
and what the first factor would have changed on the user (`deferred`: a reset's new
password, the first proof of an address, ending other sessions). Nothing of that is
applied until the second factor succeeds, so a first factor alone changes no account.

The token lives `mfa.firstFactorTokenSeconds` (10 minutes by default), survives up to
`MAX_FAILURES - 1` wrong second factors, and is used up by the sign-in it completes
(a conditional update in that sign-in's transaction). A used, expired or unknown token
on a sign-in endpoint is ignored (the client keeps sending it, §11.6); a used one still
opens `GET /v0/auth/totp` while its session lives (§9.5).
"""

from __future__ import annotations

import secrets
import time
from typing import Any, NamedTuple

from portcullis.auth.context import Request
from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import INVALID_TOKEN, BadRequest, Unauthorized
from portcullis.platform.timefmt import now_iso
from portcullis.store import mfa as store
from portcullis.store.mfa import FirstFactorItem
from portcullis.store.transactions import Update
from portcullis.store.users import UserItem
from portcullis.tenancy.settings import TenantSettings
from portcullis.users import factors

MAX_FAILURES = 5
TOTP = {"strategy": "totp", "channel": "authenticator"}
NOT_ALLOWED = "This factor is not allowed as a second factor"
ALREADY_SET_UP = "A second factor is already set up"
NO_SECOND_FACTOR = "No second factor is available for this sign-in"


def factor(strategy: str, channel: str) -> dict[str, str]:
    return {"strategy": strategy, "channel": channel}


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("strategy") == b.get("strategy") and a.get("channel") == b.get("channel")


def is_configured(user: UserItem, second: dict[str, Any]) -> bool:
    """Whether the user already has this factor (`isConfiguredByUser`); the User
    object's `authentication.secondFactors` asks the same helper."""
    return factors.is_configured(user, second)


def must_use(settings: TenantSettings, user: UserItem) -> bool:
    """README rule 6: MFA applies when the tenant lists second factors and either its
    policy is `"all"` or the user requires it."""
    if not settings.authentication.secondFactors:
        return False
    return settings.mfa.policy == "all" or bool(user.isMfaRequired)


def allowed_after(settings: TenantSettings, first: dict[str, Any]) -> list[dict[str, str]]:
    """§11.4 rule 2: the tenant's second factors on another channel than the first's."""
    return [
        factor(f.strategy, f.channel)
        for f in settings.authentication.secondFactors
        if f.channel != first.get("channel")
    ]


def offered(user: UserItem, allowed: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The §1.5 list: each allowed factor with `isConfiguredByUser`; `isPreferredByUser`
    is true for every configured one (so the toolkit never offers to re-pair), the
    user's preferred second factor first."""
    preferred = user.preferredSecondFactor or {}
    entries = []
    for second in allowed:
        configured = is_configured(user, second)
        entries.append(
            {**second, "isConfiguredByUser": configured, "isPreferredByUser": configured}
        )
    entries.sort(key=lambda e: 0 if preferred and same(e, preferred) else 1)
    return entries


def has_configured(user: UserItem, allowed: list[dict[str, Any]]) -> bool:
    return any(is_configured(user, second) for second in allowed)


class Pending(NamedTuple):
    """A sign-in waiting for its second factor: a usable first-factor token."""

    item: FirstFactorItem

    @property
    def user_id(self) -> int:
        return int(self.item.userId)

    @property
    def allowed(self) -> list[dict[str, Any]]:
        return list(self.item.secondFactors or [])

    @property
    def first_factor(self) -> dict[str, Any]:
        return dict(self.item.firstFactor or {})

    def allows(self, second: dict[str, Any]) -> bool:
        return any(same(second, f) for f in self.allowed)

    def require(self, second: dict[str, Any]) -> None:
        if not self.allows(second):
            raise BadRequest(NOT_ALLOWED)

    def may_enrol(self, user: UserItem) -> bool:
        """§11.6: a new second factor may be set up with a first factor only while the
        user has none of the ones this sign-in could use."""
        return not has_configured(user, self.allowed)

    def keep_proved(self, channel: str) -> None:
        """A second factor that proves `channel` (`email` or `sms`) keeps its address:
        the first factor's deferred claim (`auth/claim.py`) drops the *other* channel
        while nobody has proved it, and now somebody has. Changes only this in-memory
        copy, which the completing sign-in applies (`completion._resume`)."""
        address = "email" if channel == "email" else "phoneNumber"
        changed = dict(self.item.deferred or {}).get("changed")
        if isinstance(changed, dict) and address in changed and changed[address] is None:
            del changed[address]

    def count_failure(self) -> None:
        store.count_failure(self.item, int(time.time()), MAX_FAILURES)

    def set_pending_phone(self, phone_number: str) -> bool:
        return store.set_pending_phone(self.item, phone_number, int(time.time()), MAX_FAILURES)

    def use_update(self, session_id: str, keep_until: int) -> Update:
        return store.use_update(
            self.item,
            session_id=session_id,
            used_at=now_iso(),
            keep_until=keep_until,
            now=int(time.time()),
            max_failures=MAX_FAILURES,
        )


def _find(token: str) -> FirstFactorItem | None:
    return store.get_first_factor(secret_digest(token))


def _is_usable(item: FirstFactorItem, at: int) -> bool:
    return (
        item.usedAt is None and int(item.expiresAt) > at and int(item.failures or 0) < MAX_FAILURES
    )


def load(req: Request) -> Pending | None:
    """The pending sign-in of the request's first-factor token, if it is usable. A
    token of another tenant or mode is 401 `Invalid token` (§11.6); a used, expired or
    unknown one is ignored: the request is a first factor."""
    if req.first_factor_token is None:
        return None
    item = _find(req.first_factor_token)
    if item is None:
        return None
    if item.tenantId != req.tenant_id or item.mode != req.mode:
        raise Unauthorized(INVALID_TOKEN)
    if not _is_usable(item, int(time.time())):
        return None
    return Pending(item)


def find_token(token: str) -> FirstFactorItem | None:
    """The record of a token as it is (used or not): `GET /v0/auth/totp` decides."""
    return _find(token)


def is_usable(item: FirstFactorItem) -> bool:
    return _is_usable(item, int(time.time()))


def new_token(
    req: Request,
    user: UserItem,
    first: dict[str, Any],
    allowed: list[dict[str, str]],
    *,
    deferred: dict[str, Any] | None,
    after_signup: bool,
) -> tuple[str, FirstFactorItem]:
    """A fresh token and its record (not yet written: it commits with the first factor's
    own writes)."""
    token = f"uf_{req.mode}_first_factor_{secrets.token_hex(16)}"
    expires = int(time.time()) + int(req.settings.mfa.firstFactorTokenSeconds)
    item = store.new_first_factor_item(
        secret_digest(token),
        mode=req.mode,
        tenantId=req.tenant_id,
        userId=int(user.userId),
        firstFactor=dict(first),
        secondFactors=allowed,
        createdAt=now_iso(),
        expiresAt=expires,
        failures=0,
        deferred=deferred,
        afterSignup=1 if after_signup else 0,
    )
    return token, item


def required_response(
    req: Request, user: UserItem, first: dict[str, Any], token: str
) -> dict[str, Any]:
    """§1.5 (never `tokens`, never `redirectTo`)."""
    allowed = allowed_after(req.settings, first)
    return {
        "mode": req.mode,
        "message": "MFA required",
        "isMfaRequired": True,
        "isEmailConfirmed": bool(user.isEmailConfirmed),
        "isPhoneNumberConfirmed": bool(user.isPhoneNumberConfirmed),
        "firstFactorToken": token,
        "authentication": {
            "firstFactor": {"strategy": first.get("strategy"), "channel": first.get("channel")},
            "secondFactors": offered(user, allowed),
        },
    }
