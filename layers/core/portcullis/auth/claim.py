"""Account pre-hijacking (issue 8 item 4): the first proof of an address claims the account.

Anyone can sign up with somebody else's email address (or phone number) and a password
of their choosing: the address is simply unconfirmed until its owner proves it. When
the owner later does (a login link, a welcome or verify link, a code sent to it), the
account must become theirs alone, or the squatter's password keeps working next to the
victim's sign-in. So, on the first proof of an address that was unconfirmed, in the
same transaction as the new session:

- any password set before it is removed (the owner sets their own: reset or update);
- `passwordChangedAt` is stamped, so every older session and token fails its
  password-changed check, and `claimedAt` records when the account was claimed;
- the *other* channel, when it is still unconfirmed, is dropped (a squatter's phone
  number next to the victim's email, or the reverse), since nobody has proved it;

and right after it, every other session of the user is ended (`account_claimed`).

A later proof of an already confirmed address changes nothing: the account was claimed
then. A user who signed up with a password and then opens the welcome link in their own
mailbox loses that password too; a server cannot tell them from a squatter (the welcome
link reaches whoever owns the mailbox), and resetting is one email away (docs/auth.md).
"""

from __future__ import annotations

from typing import Any

from portcullis.auth import completion
from portcullis.auth.completion import Verified
from portcullis.auth.context import Request
from portcullis.store import users as user_store

REASON = "account_claimed"
CHANNELS = ("email", "sms")
# What a sign-in by link or code marks when it proves a channel: the flag and its time.
CONFIRMED = {
    "email": ("isEmailConfirmed", "confirmedEmailAt"),
    "sms": ("isPhoneNumberConfirmed", "confirmedPhoneNumberAt"),
}


def is_unconfirmed(verified: Verified, channel: str) -> bool:
    """Whether proving `channel` now would be the first proof of the user's address."""
    user = verified.user
    if channel == "email":
        return bool(user.email) and not user.isEmailConfirmed
    return bool(user.phoneNumber) and not user.isPhoneNumberConfirmed


def apply(verified: Verified, channel: str, stamp: str) -> bool:
    """Add the claim's changes to `verified` when `channel` (`email` or `sms`) was
    unconfirmed; call before the strategy marks it confirmed. True when it claimed."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if not is_unconfirmed(verified, channel):
        return False
    user = verified.user
    verified.touch(passwordHash=None, passwordChangedAt=stamp, claimedAt=stamp)
    other = "phoneNumber" if channel == "email" else "email"
    other_confirmed = user.isPhoneNumberConfirmed if channel == "email" else user.isEmailConfirmed
    if getattr(user, other) and not other_confirmed:
        if verified.previous is None:
            verified.previous = {k: getattr(user, k) for k in user_store.GUARDED}
        verified.set(**{other: None}, updatedAt=stamp)
    return True


def confirm(verified: Verified, channel: str, stamp: str) -> bool:
    """A sign-in's proof of the user's unconfirmed `channel`: `apply`, then mark the
    address confirmed. True when it claimed (pass it to `finish`)."""
    claimed = apply(verified, channel, stamp)
    flag, confirmed_at = CONFIRMED[channel]
    verified.set(**{flag: True, confirmed_at: stamp}, updatedAt=stamp)
    return claimed


def finish(req: Request, verified: Verified, claimed: bool) -> dict[str, Any]:
    """`completion.finish`; when the sign-in claimed the account, every other session
    ends once it is complete (after the second factor, when one is due)."""
    if claimed and verified.ends_other_sessions is None:
        verified.ends_other_sessions = REASON
    return completion.finish(req, verified).body
