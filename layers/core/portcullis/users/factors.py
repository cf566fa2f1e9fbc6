"""Which of a tenant's factors a user has (api-client §1.9, §1.10; concepts §10.2): the
`authentication` object of the User object and of the sign-in answer, and the
`isConfiguredByUser` flag of the MFA-required answer (`auth/mfa.py` asks here, so the
two can never disagree about whether a user has set up a factor).

Pure functions of the stored user and the tenant's flow: no read, and never a secret —
a factor is only ever `{channel, strategy}`.
"""

from __future__ import annotations

from typing import Any

from portcullis.store.users import UserItem
from portcullis.tenancy.settings import Authentication


def is_configured(user: UserItem, factor: dict[str, Any]) -> bool:
    """Whether the user has set this factor up: an active TOTP authenticator, a
    confirmed phone number or email address, a password."""
    strategy, channel = factor.get("strategy"), factor.get("channel")
    if strategy == "totp":
        return bool(user.totpEnabledAt)
    if strategy == "verificationCode" and channel == "sms":
        return bool(user.phoneNumber and user.isPhoneNumberConfirmed)
    if strategy == "verificationCode" and channel == "email":
        return bool(user.email and user.isEmailConfirmed)
    if strategy == "password":
        return bool(user.passwordHash)
    if strategy == "link":
        return bool(user.email and user.isEmailConfirmed)
    return False


def _usable_first(user: UserItem, factor: dict[str, Any]) -> bool:
    """A first factor is usable as soon as its identifier is there (an email link or
    code also proves an unconfirmed address); a password needs a password."""
    if factor.get("strategy") == "password" and not user.passwordHash:
        return False
    if factor.get("channel") == "sms" and not user.phoneNumber:
        return False
    return not (factor.get("channel") == "email" and not user.email)


def authentication(user: UserItem, flow: Authentication) -> dict[str, list[dict[str, Any]]]:
    """`{firstFactors, secondFactors}`: the tenant's first factors this user can use now,
    and the tenant's second factors this user has configured (in the tenant's order)."""
    first = [f.model_dump(mode="json") for f in flow.firstFactors]
    second = [f.model_dump(mode="json") for f in flow.secondFactors]
    return {
        "firstFactors": [f for f in first if _usable_first(user, f)],
        "secondFactors": [f for f in second if is_configured(user, f)],
    }
