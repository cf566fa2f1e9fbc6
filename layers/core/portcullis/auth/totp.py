"""TOTP authenticator: set up (api-client §9.5), log in with a code or a backup code
(§7.8, §7.9) and remove (§9.8).

Set-up makes a PENDING secret with ten backup codes, shown once; the first good code
activates it. The secret is stored KMS-encrypted (`tokens.envelope`, bound to the
tenant, mode and user), backup codes only as keyed digests (`credentials.totp`).

Every use of the authenticator is decided inside the sign-in's transaction: a time
step is accepted once and never one older than the last (RFC 6238 §5.2), a backup code
is removed on the condition it is still there, a pending secret is activated on the
condition it is still the one that was read. Every check counts first: wrong codes
draw on `attemptsPerAccount` (per account, like passwords: a lockout is a 429 until the
window ends), on the first-factor token's failures when there is one, and on the IP's
`firstFactorFailuresPerIp` otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from portcullis.auth import completion, identity, mfa
from portcullis.auth.context import FIRST_FACTOR_TOKEN, Request
from portcullis.auth.inputs import TotpLogIn
from portcullis.credentials import totp as credential
from portcullis.platform import background
from portcullis.platform.errors import (
    INVALID_TOKEN,
    BadRequest,
    Forbidden,
    NotFound,
    PortcullisError,
    Unauthorized,
)
from portcullis.platform.identifiers import bearer_credential
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import attempts, authfailures, perip, spraying
from portcullis.sessions import lifecycle, tokenauth
from portcullis.sessions.tokenauth import USER_LOCKED, SignedIn
from portcullis.store import mfa as store
from portcullis.store import sessions as session_store
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.store.mfa import TotpItem
from portcullis.store.users import UserItem
from portcullis.tenancy.settings import TenantSettings
from portcullis.tenancy.state import tenant_state
from portcullis.tokens import envelope
from portcullis.users.rendering import event_item

PENDING_SECONDS = 15 * 60
FIRST_FACTOR_PREFIXES = ("uf_live_first_factor_", "uf_test_first_factor_")
TOTP_ALREADY_SET_UP = "TOTP is already set up"
NOT_SET_UP = "TOTP is not set up"
CODE_REQUIRED = "totpCode or backupCode is required"
IDENTIFIER_REQUIRED = "a user identifier is required"
FACTOR = mfa.TOTP
# The identifiers of §7.8, in the order the first present one is used.
IDENTIFIERS = ("userId", "userUuid", "emailOrUsername", "email", "username", "phoneNumber")


def _context(item: TotpItem) -> str:
    return f"totp:{item.mode}:{item.tenantId}:{int(item.userId)}"


def _secret(item: TotpItem) -> str:
    sealed = envelope.Sealed(item.ciphertext, item.encryptedDataKey, item.nonce)
    return envelope.open_sealed(sealed, _context(item)).decode("ascii")


def _account(user: UserItem) -> str:
    return user.email or user.username or user.phoneNumber or str(int(user.userId))


def _issuer(mode: str, tenant_id: str) -> str:
    state = tenant_state(mode, tenant_id)
    return (state.tenant.name if state and state.tenant.name else None) or tenant_id


def _setup_answer(
    secret: str, issuer: str, user: UserItem, backup_codes: list[str]
) -> dict[str, Any]:
    uri = credential.provisioning_uri(secret, issuer, _account(user))
    return {
        "totpSecret": secret,
        "qrCode": credential.qr_data_url(uri),
        "backupCodes": backup_codes,
    }


def _is_pending_usable(item: TotpItem, at: int) -> bool:
    return item.status == store.PENDING and int(item.expiresAt or 0) > at


def _offers_totp(settings: TenantSettings) -> bool:
    flow = settings.authentication
    return any(
        f.strategy == "totp" and f.channel == "authenticator"
        for f in [*flow.firstFactors, *flow.secondFactors]
    )


# ------------------------------------------------------------------ set up (§9.5)


@dataclass(frozen=True)
class SetupCaller:
    """Who asks for a set-up: a signed-in user, or a sign-in halfway (first factor
    passed; `enrolling`), with the tenant's settings."""

    user: UserItem
    settings: TenantSettings
    enrolling: mfa.Pending | None = None


def setup(caller: SetupCaller) -> dict[str, Any]:
    user = caller.user
    if not _offers_totp(caller.settings):
        raise Forbidden("TOTP is not enabled for this tenant")
    item = store.get_totp(user.mode, user.tenantId, int(user.userId))
    issuer = _issuer(user.mode, user.tenantId)
    if item is not None and item.status == store.ACTIVE:
        if caller.enrolling is not None:
            # A first factor alone must never reveal the second factor.
            raise Forbidden(TOTP_ALREADY_SET_UP)
        return _setup_answer(_secret(item), issuer, user, [])
    if caller.enrolling is not None:
        caller.enrolling.require(FACTOR)
        if not caller.enrolling.may_enrol(user):
            raise Forbidden(mfa.ALREADY_SET_UP)
    secret = credential.new_secret()
    backup_codes = credential.new_backup_codes()
    at = int(time.time())
    fresh = store.new_totp_item(
        user.mode,
        user.tenantId,
        int(user.userId),
        status=store.PENDING,
        createdAt=now_iso(),
        expiresAt=at + PENDING_SECONDS,
        ttl=at + PENDING_SECONDS,
        lastStep=0,
        backupDigests={credential.backup_digest(secret, code) for code in backup_codes},
    )
    sealed = envelope.seal(secret.encode("ascii"), _context(fresh))
    fresh.ciphertext = sealed.ciphertext
    fresh.encryptedDataKey = sealed.encrypted_data_key
    fresh.nonce = sealed.nonce
    try:
        transactions.commit([fresh], [], save_conditions={0: store.not_active_condition()})
    except transactions.WriteConflict as exc:
        raise Forbidden(TOTP_ALREADY_SET_UP) from exc  # activated meanwhile
    return _setup_answer(secret, issuer, user, backup_codes)


def setup_caller_from_token(token: str, ip: str) -> SetupCaller:
    """`GET /v0/auth/totp` with a first-factor token. A usable one enrols; a used one
    still stands for the session it produced while that session lives (the client
    never forgets its token, §9.5); anything else is 401 `Invalid token`."""
    item = mfa.find_token(token)
    if item is None:
        raise Unauthorized(INVALID_TOKEN)
    state = tenant_state(item.mode, item.tenantId)
    if state is None:
        raise Unauthorized(INVALID_TOKEN)
    perip.count_request(item.mode, item.tenantId, ip, state.settings.rateLimits)
    user = user_store.get_user(item.mode, item.tenantId, int(item.userId))
    if user is None:
        raise Unauthorized(INVALID_TOKEN)
    if mfa.is_usable(item):
        if user.locked:
            raise Forbidden(USER_LOCKED)
        return SetupCaller(user, state.settings, enrolling=mfa.Pending(item))
    if item.usedAt is None or item.sessionId is None:
        raise Unauthorized(INVALID_TOKEN)
    session = session_store.get(item.sessionId)
    claims = {"tenantId": item.tenantId, "mode": item.mode, "userId": int(item.userId)}
    if not lifecycle.is_live(session, claims) or user.locked:
        raise Unauthorized(INVALID_TOKEN)
    assert session is not None
    if lifecycle.password_changed_since(user, session):
        raise Unauthorized(INVALID_TOKEN)
    return SetupCaller(user, state.settings)


def setup_caller(authorization: str | None, ip: str) -> SetupCaller:
    """The caller of `GET /v0/auth/totp`: the client sends its first-factor token when
    it holds one, else the access token (§9.5). A bad token of either kind counts
    against the IP's `authFailuresPerIp`."""
    token = bearer_credential(authorization)
    if token is None or not token.startswith(FIRST_FACTOR_PREFIXES):
        signed_in = tokenauth.authenticate(authorization, ip)
        assert signed_in.user is not None, "authenticate(with_user=True) reads the user"
        return SetupCaller(signed_in.user, signed_in.settings)
    with authfailures.Watch(ip) as watch:
        watch.presented()
        if not FIRST_FACTOR_TOKEN.match(token):
            raise Unauthorized(INVALID_TOKEN)
        return setup_caller_from_token(token, ip)


# ------------------------------------------------------------------ log in (§7.8, §7.9)


@dataclass(frozen=True)
class Check:
    """A presented code that matched: the write that uses it up, and what it did."""

    use: transactions.Update
    activates: bool = False


def _check(item: TotpItem | None, body: TotpLogIn, invalid: BadRequest) -> Check:
    """Which update uses the presented code, or `invalid`. Without a usable item the
    same KMS work is done (one envelope operation), so the answer's timing does not
    tell an account without TOTP from a wrong code."""
    at = int(time.time())
    usable = item is not None and (item.status == store.ACTIVE or _is_pending_usable(item, at))
    if item is None or not usable:
        envelope.seal(b"-", "totp:none")
        raise invalid
    secret = _secret(item)
    if body.totpCode is not None:
        step = credential.matching_step(secret, str(body.totpCode), at)
        if step is None:
            raise invalid
        if item.status == store.PENDING:
            return Check(store.activate_update(item, step=step, at=now_iso(), now=at), True)
        if step <= int(item.lastStep or 0):
            raise invalid  # a replayed code, or an older one (RFC 6238 §5.2)
        return Check(store.step_update(item, step))
    code = credential.normalise_backup_code(str(body.backupCode))
    if item.status != store.ACTIVE or code is None:
        raise invalid
    digest = credential.backup_digest(secret, code)
    if digest not in (item.backupDigests or set()):
        raise invalid
    return Check(store.backup_update(item, digest))


def _identifier(body: TotpLogIn) -> tuple[str, Any] | None:
    for name in IDENTIFIERS:
        value = getattr(body, name)
        if value is not None and value != "":
            return name, value
    return None


def _find_user(req: Request, name: str, value: Any) -> UserItem | None:
    if name == "userId":
        return user_store.get_user(req.mode, req.tenant_id, int(value)) if value > 0 else None
    text = str(value).strip()
    if len(text) > identity.MAX_IDENTIFIER_LENGTH:
        return None
    if name == "userUuid":
        return user_store.get_by_uuid(req.mode, req.tenant_id, text)
    if name == "phoneNumber":
        return identity.find_by_phone(req, text)
    if name == "username" or (name == "emailOrUsername" and "@" not in text):
        return identity.find_by_username(req, text)
    return identity.find_by_email(req, text.lower())


def _matches(user: UserItem, name: str, value: Any) -> bool:
    if name == "userId":
        return int(value) == int(user.userId)
    text = str(value).strip()
    if name == "userUuid":
        return text == user.userUuid
    if name == "phoneNumber":
        return text == (user.phoneNumber or "")
    if name == "username":
        return text == (user.username or "")
    if name == "email":
        return text.lower() == (user.email or "").lower()
    return text.lower() in ((user.email or "").lower(), (user.username or "").lower())


def log_in(req: Request, body: TotpLogIn) -> dict[str, Any]:
    if body.totpCode is None and body.backupCode is None:
        raise BadRequest(CODE_REQUIRED)
    invalid = BadRequest(
        credential.INVALID_TOTP if body.totpCode is not None else credential.INVALID_BACKUP
    )
    pending = mfa.load(req)
    if pending is not None:
        pending.require(FACTOR)
        user = user_store.get_user(req.mode, req.tenant_id, pending.user_id)
        if user is None:
            raise Unauthorized(INVALID_TOKEN)
        for name in IDENTIFIERS:
            value = getattr(body, name)
            if value is not None and value != "" and not _matches(user, name, value):
                raise BadRequest(f"{name} does not match")
        typed = f"#user:{int(user.userId)}"
    else:
        found = _identifier(body)
        if found is None:
            raise BadRequest(IDENTIFIER_REQUIRED)
        if not _offers_totp(req.settings):
            raise Forbidden("This sign-in method is not enabled")
        user = _find_user(req, *found)
        typed = attempts.account_key(user, str(found[1]))
    # Counted per account before anything is checked; settled before the result is used.
    counting = background.start(attempts.count, req, "totp", typed)
    item = store.get_totp(req.mode, req.tenant_id, int(user.userId)) if user else None
    try:
        try:
            check = _check(item, body, invalid)
        finally:
            refund = counting.result()
        if not _may_sign_in(req, check, pending):
            raise invalid
    except BadRequest as exc:
        raise _failed(req, pending, exc) from None
    assert user is not None
    if user.locked:
        raise Forbidden(USER_LOCKED)
    verified = completion.Verified(
        user,
        dict(FACTOR),
        updates=[refund, check.use, spraying.guard(req)],
        conflict=invalid,
        explain_conflict=lambda: spraying.refuse_if_exhausted(req),
        pending=pending,
    )
    if check.activates:
        # Written with the activation even when a second factor is still due.
        stamp = now_iso()
        verified.record(totpEnabledAt=stamp, updatedAt=stamp)
    return completion.finish(req, verified).body


def _may_sign_in(req: Request, check: Check, pending: mfa.Pending | None) -> bool:
    """TOTP as a FIRST factor needs the tenant to list it, except to confirm a pending
    set-up (§7.8: the client sends no access token on that call); whoever made the
    pending secret already held the user's access token or first factor."""
    if pending is not None or check.activates:
        return True
    return any(
        f.strategy == "totp" and f.channel == "authenticator"
        for f in req.settings.authentication.firstFactors
    )


def _failed(req: Request, pending: mfa.Pending | None, exc: PortcullisError) -> PortcullisError:
    if pending is not None:
        pending.count_failure()
        return exc
    return spraying.failed(req, exc)


# ------------------------------------------------------------------ remove (§9.8)


def remove(req: Request, caller: SignedIn, body: Any) -> dict[str, Any]:
    """Remove the authenticator with a current code (or backup code), so a stolen access
    token alone cannot strip the second factor; a pending set-up is discarded without
    one. Once an active authenticator is gone the user's other sessions end."""
    user = caller.user
    assert user is not None
    item = store.get_totp(user.mode, user.tenantId, int(user.userId))
    if item is None:
        raise NotFound(NOT_SET_UP)
    active = item.status == store.ACTIVE
    updates: list[transactions.Update] = []
    removal = store.delete_totp(item)
    invalid = BadRequest(
        credential.INVALID_TOTP if body.totpCode is not None else credential.INVALID_BACKUP
    )
    if active:
        if body.totpCode is None and body.backupCode is None:
            raise BadRequest(CODE_REQUIRED)
        refund = attempts.count(req, "totp", f"#user:{int(user.userId)}")
        check = _check(item, TotpLogIn(totpCode=body.totpCode, backupCode=body.backupCode), invalid)
        # The code is used up by the delete itself: same step / same backup code rules.
        removal = transactions.Delete(removal.item, check.use.condition)
        updates.append(refund)
    stamp = now_iso()
    fields: dict[str, Any] = {"totpEnabledAt": None, "updatedAt": stamp}
    if mfa.same(user.preferredSecondFactor or {}, FACTOR):
        fields["preferredSecondFactor"] = None
    updates.insert(0, user_store.field_update(user, fields, bump_version=True))
    for name, value in fields.items():
        setattr(user, name, value)
    event = event_item("update", user, identity.renderer(req))
    try:
        transactions.commit([event], updates, deletes=[removal])
    except transactions.WriteConflict as exc:
        raise invalid if active else NotFound(NOT_SET_UP) from exc
    if active:
        lifecycle.end_all(
            user.mode,
            user.tenantId,
            int(user.userId),
            "totp_removed",
            except_session=caller.session_id,
        )
    return {"message": "OK"}
