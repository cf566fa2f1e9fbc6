"""What a signed-in user does with their access token: read and update their profile
(api-client §9.1–9.2) and set a new password (§9.3).

Profile updates go through `users.update` (guards, optimistic lock, `user.update`
event in one transaction), limited to the fields a user may change about themselves:
email, phone number and password have their own flows that prove the new value.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from portcullis.auth import identity
from portcullis.auth.context import RATE_LIMITED
from portcullis.credentials import links, passwords
from portcullis.platform import customdata
from portcullis.platform.errors import BadRequest, Forbidden
from portcullis.platform.timefmt import now_iso
from portcullis.platform.validation import bad_request_from
from portcullis.ratelimit import fixedwindow
from portcullis.sessions import lifecycle, listing
from portcullis.sessions.tokenauth import SignedIn
from portcullis.store import sessions as session_store
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.store.users import UserItem
from portcullis.users import service as users
from portcullis.users.fields import UserWrite
from portcullis.users.rendering import Renderer, event_item, user_json

EDITABLE = ("name", "image", "username", "data", "isMfaRequired")
INCORRECT_PASSWORD = "Incorrect password"
CHANGED_MEANWHILE = "The password changed meanwhile, please try again"
MFA_OFF_FORBIDDEN = "isMfaRequired can only be turned off by an administrator"


def read(caller: SignedIn) -> dict[str, Any]:
    assert caller.user is not None
    return user_json(caller.user, tenant=caller.tenant, tenant_settings=caller.settings)


def _changes(body: Any, user: UserItem) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest('"body" must be an object')
    for name in body:
        if name not in EDITABLE:
            raise BadRequest(f'"{name}" cannot be updated here')
    changes = dict(body)
    if changes.get("isMfaRequired") is False and user.isMfaRequired:
        raise Forbidden(MFA_OFF_FORBIDDEN)
    if changes.get("isMfaRequired") is None:
        changes.pop("isMfaRequired", None)
    try:
        UserWrite.model_validate(changes)
    except ValidationError as exc:
        raise bad_request_from(exc) from exc
    if not changes:
        raise BadRequest("At least one field is required")
    return changes


def _check_token_size(user: UserItem, changes: dict[str, Any]) -> None:
    """The refreshed ID token will carry the new profile: refuse one too big for a cookie."""
    probe = user_store.copy_of(user)
    if "data" in changes:
        probe.data = customdata.merge_data(user.data or {}, changes["data"])
    for name in ("name", "image", "username"):
        if name in changes:
            setattr(probe, name, changes[name])
    identity.check_token_size(probe)


def update(caller: SignedIn, body: Any) -> dict[str, Any]:
    """Shallow `data` merge, `null` removes a key (api-client §9.2); no tokens are
    returned, the client refreshes to get an ID token with the change."""
    user = caller.user
    assert user is not None
    changes = _changes(body, user)
    if changes.get("data") is not None:
        customdata.check_data_size(changes["data"])
    _check_token_size(user, changes)
    try:
        updated = users.update(user, changes)
    except BadRequest as exc:
        raise identity.client_conflict(exc) from exc
    return user_json(updated, tenant=caller.tenant, tenant_settings=caller.settings)


def update_password(
    caller: SignedIn, *, password: str | None, existing_password: str | None
) -> dict[str, Any]:
    """Set a new password; the existing one is required when the user has one.

    Every other session of the user ends (api-client §9.3). The calling session is
    marked as having proved the new password first, so the refresh check "password
    changed after the session signed in" never ends it.
    """
    user = caller.user
    assert user is not None
    new = identity.required(password, "password is required")
    previous = user.passwordHash
    refunds: list[transactions.Update] = []
    if previous:
        counted = fixedwindow.hit(
            "attemptsPerAccount",
            caller.settings.rateLimits.attemptsPerAccount,
            caller.mode,
            caller.tenant_id,
            "passwordChange",
            str(user.userId),
            message=RATE_LIMITED,
        )
        if not existing_password or not passwords.verify(previous, existing_password):
            raise BadRequest(INCORRECT_PASSWORD)
        refunds.append(counted.refund())  # only failures add up to a lockout
    passwords.check_policy(new, caller.mode)
    stamp = now_iso()
    user.passwordHash = passwords.hash_password(new)
    user.passwordChangedAt = stamp
    user.updatedAt = stamp
    event = event_item("update", user, Renderer(caller.tenant, caller.settings))
    # One transaction: the new password, its event, the refund, and this session marked
    # as having proved it (so "password changed since sign-in" never ends it).
    try:
        transactions.commit(
            [event],
            [
                user_store.field_update(
                    user,
                    {
                        "passwordHash": user.passwordHash,
                        "passwordChangedAt": stamp,
                        "updatedAt": stamp,
                    },
                    bump_version=True,
                    expect={"passwordHash": previous or None},
                ),
                session_store.authenticated_update(caller.session_id, stamp),
                *refunds,
            ],
        )
    except transactions.WriteConflict as exc:
        # The password changed (or the account or session went) since it was read.
        raise BadRequest(CHANGED_MEANWHILE) from exc
    lifecycle.end_all(
        caller.mode,
        caller.tenant_id,
        int(user.userId),
        "password_change",
        except_session=caller.session_id,
    )
    links.revoke(user, links.RESET_LINK_TYPES)
    return {"message": "OK"}


def session(caller: SignedIn) -> dict[str, Any]:
    return listing.session_json(caller.session, caller.session_id)


def session_list(caller: SignedIn) -> dict[str, Any]:
    """Active sessions of the caller, most recently active first, at most 100."""
    found = listing.list_for_user(caller.mode, caller.tenant_id, int(caller.claims["userId"]))
    return {
        "results": [listing.session_json(s, caller.session_id) for s in found[: listing.LIST_LIMIT]]
    }
