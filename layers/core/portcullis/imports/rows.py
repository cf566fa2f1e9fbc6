"""Import rows (api-server §1.10, §10.1; concepts §7.4): what one row may hold, and the
check every row passes before it is stored.

A row that fails is not a failed request: it becomes a row error (`index`, `userId`,
`email`, `message`) and is skipped when the import is processed. What can only be
known against the tenant's users (an email another user holds, a userId that exists
with `updateExisting: false`) is checked when the row is applied (`imports.apply`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator

from portcullis.credentials import passwords
from portcullis.imports import sources
from portcullis.platform.customdata import check_data_size
from portcullis.platform.errors import BadRequest
from portcullis.platform.identifiers import UUID_PATTERN
from portcullis.platform.timefmt import iso, parse_iso
from portcullis.platform.validation import first_message
from portcullis.users.fields import Checked, Name

MAX_INLINE_ROWS = 5_000
MAX_ERRORS_KEPT = 1_000
# A stored chunk holds at most this many rows and this many bytes of row JSON (a
# DynamoDB item is at most 400 KB, and the sealed form is a third larger).
CHUNK_ROWS = 100
CHUNK_BYTES = 200_000
MAX_ROW_BYTES = 64_000


class ImportRow(Checked):
    """One row: the writable user fields of §1.4 plus the import fields of §1.10 and
    concepts §7.4. `id` (the CSV column) is renamed to `userId` by the source preset."""

    userId: Annotated[int, Field(ge=1, le=10**15)] | None = None
    userUuid: Annotated[str, Field(pattern=UUID_PATTERN)] | None = None
    email: str | None = None
    username: str | None = None
    name: Name | None = None
    image: str | None = None
    phoneNumber: str | None = None
    data: dict[str, Any] | None = None
    locked: bool | None = None
    isMfaRequired: bool | None = None
    isEmailConfirmed: bool | None = None
    isPhoneNumberConfirmed: bool | None = None
    createdAt: str | None = None
    roles: list[str] | dict[str, list[str]] | None = None
    password: Annotated[str, Field(min_length=1)] | None = None
    passwordHash: str | dict[str, Any] | None = None
    totpSecret: str | None = None

    @field_validator("createdAt")
    @classmethod
    def _timestamp(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return iso(parse_iso(value))
        except ValueError:
            raise ValueError("must be an ISO 8601 timestamp") from None

    @field_validator("totpSecret")
    @classmethod
    def _base32(cls, value: str | None) -> str | None:
        if value is None:
            return None
        secret = value.replace(" ", "").upper().rstrip("=")
        try:
            raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
        except (binascii.Error, ValueError):
            raise ValueError("must be a base32 secret") from None
        if not 10 <= len(raw) <= 64:
            raise ValueError("must be a base32 secret of 80 to 512 bits")
        return secret


@dataclass(frozen=True)
class RowRules:
    """What the rows of one import are checked against."""

    source: str
    mode: str
    tenant_id: str
    roles: frozenset[str]  # the roles defined in the tenant
    allow_weak_hashes: bool = False
    skip_password_policy: bool = False


@dataclass
class Seen:
    """Duplicates within one file, by userId, email and username (§10.1). Keeps a
    64-bit digest per value, not the value: ~100 bytes per row however long the row."""

    values: dict[str, dict[int, int]] = field(
        default_factory=lambda: {"userId": {}, "email": {}, "username": {}}
    )

    def first_index(self, kind: str, value: str, index: int) -> int | None:
        digest = int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big")
        known = self.values[kind]
        if digest in known:
            return known[digest]
        known[digest] = index
        return None


def error_of(index: int, record: Any, message: str) -> dict[str, Any]:
    """A row error as the Import object shows it (§1.10)."""
    raw = record if isinstance(record, Mapping) else {}
    user_id = raw.get("userId", raw.get("id"))
    email = raw.get("email")
    return {
        "index": index,
        "userId": user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None,
        "email": email if isinstance(email, str) and len(email) <= 254 else None,
        "message": message,
    }


def _roles(row: ImportRow, rules: RowRules) -> list[str] | None:
    if row.roles is None:
        return None
    if isinstance(row.roles, dict):
        others = [t for t in row.roles if t != rules.tenant_id]
        if others:
            raise BadRequest(f'"roles" may only name roles of tenant {rules.tenant_id}')
        names = list(row.roles.get(rules.tenant_id) or [])
    else:
        names = list(row.roles)
    unique = list(dict.fromkeys(names))
    for name in unique:
        if name not in rules.roles:
            raise BadRequest(f'Role "{name}" does not exist')
    return unique


def _duplicates(row: ImportRow, index: int, seen: Seen) -> None:
    checks = (
        ("userId", None if row.userId is None else str(row.userId)),
        ("email", row.email.strip().lower() if row.email else None),
        ("username", row.username.lower() if row.username else None),
    )
    for kind, value in checks:
        if value is None:
            continue
        first = seen.first_index(kind, value, index)
        if first is not None:
            raise BadRequest(f'"{kind}" is duplicated in the file (row {first})')


def check(index: int, record: Any, rules: RowRules, seen: Seen) -> dict[str, Any]:
    """The stored form of one record (the row to apply), or BadRequest naming what is
    wrong. The password hash is already in the form the user record keeps."""
    if not isinstance(record, Mapping):
        raise BadRequest(f'"users[{index}]" must be an object')
    try:
        mapped = sources.to_row(rules.source, record)
    except sources.UnmappableRecord as exc:
        raise BadRequest(str(exc)) from None
    try:
        row = ImportRow.model_validate(mapped)
    except ValidationError as exc:
        raise BadRequest(first_message(exc.errors())) from None
    if row.password is not None and row.passwordHash is not None:
        raise BadRequest('"password" and "passwordHash" cannot both be set')
    stored = row.model_dump(exclude_none=True)
    if row.password is not None and not rules.skip_password_policy:
        passwords.check_policy(row.password, rules.mode)
    if row.passwordHash is not None:
        stored["passwordHash"] = passwords.stored_form(
            row.passwordHash,
            allow_weak=rules.allow_weak_hashes,
            tenant_id=rules.tenant_id,
            mode=rules.mode,
        )
    if row.data is not None:
        check_data_size(row.data)
    roles = _roles(row, rules)
    if roles is not None:
        stored["roles"] = roles
    if not any(stored.get(k) for k in ("email", "username", "phoneNumber", "userId", "userUuid")):
        raise BadRequest('"email" is required')
    _duplicates(row, index, seen)
    return stored
