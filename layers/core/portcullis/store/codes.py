"""Verification codes: at most one pending code per (tenant, mode, channel, target).

Key layout (docs/auth.md):
- code: pk `CODE#{mode}#{tenantId}#{channel}#{sha256(normalised target)}`, sk `CODE`.

Keying by target means a new code simply replaces the previous unused one. The code
itself is stored only as an argon2id hash: six digits are a million candidates, which
a plain SHA-256 digest would give away in milliseconds to anyone holding a table dump.
Every change is conditional on `codeHash`, so a replaced code can neither be counted
against nor consumed by a request that read its predecessor.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from portcullis.store.base import Item, condition_held, find, owned_item

CODE_SK = "CODE"


class CodeItem(Item):
    mode = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    channel = UnicodeAttribute()
    codeHash = UnicodeAttribute()
    userId = NumberAttribute()
    purpose = UnicodeAttribute(default="signin")
    # A phone number the user is adding (verify phone): becomes theirs on success.
    pendingPhoneNumber = UnicodeAttribute(null=True)
    createdAt = UnicodeAttribute()
    expiresAt = NumberAttribute()
    attempts = NumberAttribute(default=0)


def code_pk(mode: str, tenant_id: str, channel: str, target: str) -> str:
    digest = hashlib.sha256(target.encode("utf-8")).hexdigest()
    return f"CODE#{mode}#{tenant_id}#{channel}#{digest}"


def new_code_item(
    mode: str, tenant_id: str, channel: str, target: str, **fields: object
) -> CodeItem:
    return owned_item(
        CodeItem,
        CODE_SK,
        "code",
        pk=code_pk(mode, tenant_id, channel, target),
        mode=mode,
        tenant_id=tenant_id,
        channel=channel,
        **fields,
    )


def get(mode: str, tenant_id: str, channel: str, target: str) -> CodeItem | None:
    return find(CodeItem, code_pk(mode, tenant_id, channel, target), CODE_SK, consistent_read=True)


def count_failure(item: CodeItem, max_attempts: int) -> None:
    """One more wrong guess against this very code (not a newer one)."""
    condition_held(
        item.update,
        actions=[CodeItem.attempts.add(1)],
        condition=(CodeItem.codeHash == item.codeHash) & (CodeItem.attempts < max_attempts),
    )


def consume(item: CodeItem, max_attempts: int, now: int) -> bool:
    """Delete the code if it is still this one, unexpired and not exhausted: exactly one
    of several concurrent correct submissions wins."""
    return condition_held(
        item.delete,
        condition=(CodeItem.codeHash == item.codeHash)
        & (CodeItem.attempts < max_attempts)
        & (CodeItem.expiresAt > now),
    )
