"""Admin recovery of a user's second factor (an extension, docs/auth.md "MFA" → "Admin
recovery"): `DELETE /v0/users/{userId}/totp` removes the user's TOTP authenticator
(active or still pending) with its backup codes, for a user who lost their phone.

One transaction: the TOTP item is deleted (exactly the one read: a newer set-up that
raced in is never removed unseen), `totpEnabledAt` is cleared, `preferredSecondFactor`
too when it named TOTP, and the `user.update` event is written with it. The user's
sessions are kept: losing a phone is no reason to sign the user out, and the admin's key
already proves more than the user's own sessions do. `isMfaRequired` is left as it is:
a user who must use MFA enrols a new second factor at their next sign-in (§11.6).
"""

from __future__ import annotations

from typing import Any

from portcullis.platform.errors import NotFound
from portcullis.platform.timefmt import now_iso
from portcullis.store import mfa as mfa_store
from portcullis.store import transactions
from portcullis.store import users as store
from portcullis.users.conflicts import retrying
from portcullis.users.lookups import reload
from portcullis.users.rendering import Renderer, event_item

TOTP_NOT_SET_UP = "TOTP is not set up"


def _names_totp(factor: dict[str, Any] | None) -> bool:
    return factor is not None and factor.get("strategy") == "totp"


def remove_totp(user: store.UserItem) -> store.UserItem:
    """Remove the user's TOTP authenticator and backup codes; the user as it is now.

    404 `TOTP is not set up` when the user has none (nothing is written then). A
    concurrent change of the user or of the authenticator is retried on fresh reads.
    """
    renderer = Renderer.for_tenant(user.mode, user.tenantId)
    current = user

    def attempt() -> store.UserItem:
        nonlocal current
        item = mfa_store.get_totp(current.mode, current.tenantId, int(current.userId))
        if item is None:
            raise NotFound(TOTP_NOT_SET_UP)
        read: dict[str, str | None] = {"totpEnabledAt": current.totpEnabledAt}
        changes: dict[str, Any] = {"totpEnabledAt": None, "updatedAt": now_iso()}
        if _names_totp(current.preferredSecondFactor):
            changes["preferredSecondFactor"] = None
        for name, value in changes.items():
            setattr(current, name, value)
        try:
            transactions.commit(
                [event_item("update", current, renderer)],
                [store.field_update(current, changes, bump_version=True, expect=read)],
                deletes=[mfa_store.delete_totp(item)],
            )
        except transactions.WriteConflict as exc:
            # The user (or the authenticator) changed since it was read: read both again.
            current = reload(current)
            raise store.Changed() from exc
        return current

    return retrying(attempt)
