"""Per-account attempt limits (api-client §4): `attemptsPerAccount` per factor.

Every attempt is counted BEFORE the secret is checked, with one atomic UpdateItem, so
no number of parallel guesses can exceed the limit. A successful attempt then takes
its count back inside the sign-in's own transaction: only failures add up to a
lockout, and signing in costs no extra DynamoDB call. A password attempt is keyed by
the ACCOUNT it resolved to (`account_key`), so typing the email, the username or
another spelling of either draws on one budget; an identifier with no account is
keyed by what was typed, one call like a real one. A lockout only closes that factor:
a locked password still leaves link and code sign-in open.
"""

from __future__ import annotations

from portcullis.platform.errors import CLIENT_RATE_LIMITED
from portcullis.ratelimit import fixedwindow
from portcullis.ratelimit.subjects import ClientRequest
from portcullis.store.transactions import Update
from portcullis.store.users import UserItem

LIMIT_NAME = "attemptsPerAccount"


def account_key(user: UserItem | None, typed: str) -> str:
    """The counter's identifier: the user's id when the account exists, else the text.
    (Typing `#user:5` reaches account 5's counter, like typing its email would.)"""
    return f"#user:{int(user.userId)}" if user is not None else typed


def count(req: ClientRequest, factor: str, identifier: str) -> Update:
    """Count one attempt (429 with Retry-After past the limit); returns the update that
    refunds it, for the transaction of a successful sign-in."""
    limit = req.limits.attemptsPerAccount
    parts = (req.mode, req.tenant_id, factor, identifier.strip().lower())
    return fixedwindow.hit(LIMIT_NAME, limit, *parts, message=CLIENT_RATE_LIMITED).refund()
