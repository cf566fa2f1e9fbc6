"""Verification codes (api-client §7.6–7.7, concepts §6.2): six CSPRNG digits, ten
minutes, five guesses, single use, one pending code per target.

A code is bound to (tenant, mode, channel, target): the request that uses it must
name the same channel and phone number or email it was sent to. Every way a code can
be wrong — no pending code, expired, exhausted, wrong digits — is the same
`400 Invalid verificationCode` and costs the same argon2 verification.
"""

from __future__ import annotations

import re
import secrets
import time

from portcullis.credentials import passwords
from portcullis.platform.errors import BadRequest
from portcullis.platform.timefmt import now_iso
from portcullis.store import codes as store
from portcullis.store.codes import CodeItem

CODE_SECONDS = 600
MAX_ATTEMPTS = 5
INVALID_CODE = "Invalid verificationCode"
_SHAPE = re.compile(r"^[0-9]{6}$")


def generate() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_code(
    mode: str,
    tenant_id: str,
    channel: str,
    target: str,
    *,
    user_id: int,
    purpose: str = "signin",
    pending_phone_number: str | None = None,
) -> tuple[str, CodeItem]:
    """A fresh code and its item (not yet written). Writing it replaces, and so voids,
    any unused code for the same target."""
    code = generate()
    expires = int(time.time()) + CODE_SECONDS
    item = store.new_code_item(
        mode,
        tenant_id,
        channel,
        target,
        codeHash=passwords.hash_password(code),
        userId=user_id,
        purpose=purpose,
        pendingPhoneNumber=pending_phone_number,
        createdAt=now_iso(),
        expiresAt=expires,
        attempts=0,
        ttl=expires,
    )
    return code, item


def redeem(mode: str, tenant_id: str, channel: str, target: str, code: str) -> CodeItem:
    """Check and consume the pending code for this target, or 400 `Invalid verificationCode`."""
    item = store.get(mode, tenant_id, channel, target)
    at = int(time.time())
    usable = (
        item is not None
        and int(item.expiresAt) > at
        and int(item.attempts or 0) < MAX_ATTEMPTS
        and _SHAPE.match(code) is not None
    )
    if not usable or item is None:
        passwords.verify(None, code)  # same cost as checking a real code
        raise BadRequest(INVALID_CODE)
    if not passwords.verify(item.codeHash, code):
        store.count_failure(item, MAX_ATTEMPTS)
        raise BadRequest(INVALID_CODE)
    if not store.consume(item, MAX_ATTEMPTS, at):
        raise BadRequest(INVALID_CODE)
    return item
