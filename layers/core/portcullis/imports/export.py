"""Export (issue 12, "no lock-in"; docs/migration.md "Export"): a tenant's users of one
mode as JSON Lines in the `userfront` import row format (api-server §1.10), so that an
export re-imports into another Portcullis with nothing lost that an import can set.

Password hashes leave only when the deployment allows it (`EXPORT_PASSWORD_HASHES=true`,
template parameter `ExportPasswordHashes`, off by default) **and** the caller asks for
them; every page that carries hashes is audited before it is answered: a log line and an
`export.passwordHashes` event on the service's event bus (no webhook rule matches it, so
it never leaves the account). If the event cannot be written the page is refused: an
export of hashes that nobody could see afterwards is the one thing this must not allow.
TOTP secrets and backup codes are never exported (users set their authenticator up
again after a move).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from portcullis.messaging import events
from portcullis.platform.errors import BadRequest, Forbidden
from portcullis.platform.timefmt import now_iso
from portcullis.store import users as user_store

log = logging.getLogger(__name__)

ENABLE_VARIABLE = "EXPORT_PASSWORD_HASHES"
AUDIT_EVENT = "export.passwordHashes"
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
# One page stays well below what a Lambda may answer (6 MB); a user's `data` alone may
# be 64 KiB, so the row count is not a bound on its own.
MAX_PAGE_BYTES = 4 * 1024 * 1024
DISABLED_MESSAGE = (
    "Exporting password hashes is disabled for this deployment (ExportPasswordHashes)"
)


@dataclass(frozen=True)
class Page:
    """One page of an export: its JSON Lines, how many rows, and where the next starts
    (None on the last page)."""

    body: str
    count: int
    next_cursor: str | None


def hashes_enabled() -> bool:
    """Whether this deployment lets hashes leave (read per call: an operator sets it
    for one command run)."""
    return os.environ.get(ENABLE_VARIABLE, "").strip().lower() == "true"


def export_row(item: user_store.UserItem, *, include_hashes: bool) -> dict[str, Any]:
    """The import row of one stored user: every field an import can set."""
    row: dict[str, Any] = {"userId": int(item.userId), "userUuid": item.userUuid}
    for name in ("email", "username", "phoneNumber", "name", "image"):
        value = getattr(item, name)
        if value:
            row[name] = value
    row["data"] = dict(item.data or {})
    row["locked"] = bool(item.locked)
    row["isMfaRequired"] = bool(item.isMfaRequired)
    row["isEmailConfirmed"] = bool(item.isEmailConfirmed)
    row["isPhoneNumberConfirmed"] = bool(item.isPhoneNumberConfirmed)
    row["createdAt"] = item.createdAt
    # Direct grants in the user's own tenant, as the list an import takes: an import
    # accepts only roles of the tenant it imports into, whose id differs in another
    # deployment. Grants held in child tenants are not exported (docs/migration.md).
    roles = list((item.roles or {}).get(item.tenantId) or [])
    if roles:
        row["roles"] = roles
    if include_hashes and item.passwordHash:
        row["passwordHash"] = item.passwordHash
    return row


def _line(row: dict[str, Any]) -> str:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False, default=str) + "\n"


def read_cursor(raw: str | None) -> int | None:
    """The userId a page starts after; the cursor is opaque to callers (a 400 if forged)."""
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 15:
        raise BadRequest('"cursor" is not a cursor this export returned')
    return int(raw)


def audit(*, caller: str, tenant_id: str, mode: str, count: int, cursor: str | None) -> None:
    """Record that password hashes left: a log line and an event on the bus. Raises when
    the event cannot be written, so that no unaudited page is answered."""
    detail = {
        "caller": caller,
        "tenantId": tenant_id,
        "mode": mode,
        "count": count,
        "cursor": cursor,
        "occurredAt": now_iso(),
    }
    log.warning("password hashes exported %s", json.dumps(detail, sort_keys=True))
    events.put(AUDIT_EVENT, detail)


def page(
    tenant_id: str,
    mode: str,
    *,
    caller: str,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    include_hashes: bool = False,
) -> Page:
    """One page of the export of `tenant_id` in `mode`, in userId order. The tenant must
    already be known to be in the caller's scope."""
    if include_hashes and not hashes_enabled():
        raise Forbidden(DISABLED_MESSAGE)
    after = read_cursor(cursor)
    items, more = user_store.read_users(mode, tenant_id, after=after, limit=limit)
    lines: list[str] = []
    size = 0
    last: int | None = None
    for item in items:
        line = _line(export_row(item, include_hashes=include_hashes))
        if lines and size + len(line.encode()) > MAX_PAGE_BYTES:
            more = last
            break
        lines.append(line)
        size += len(line.encode())
        last = int(item.userId)
    next_cursor = None if more is None else str(more)
    if include_hashes and lines:
        audit(caller=caller, tenant_id=tenant_id, mode=mode, count=len(lines), cursor=cursor)
    return Page("".join(lines), len(lines), next_cursor)


def every_row(
    tenant_id: str, mode: str, *, caller: str, include_hashes: bool = False
) -> Iterator[str]:
    """Every line of the export, page after page (the operator command)."""
    cursor: str | None = None
    while True:
        current = page(
            tenant_id,
            mode,
            caller=caller,
            cursor=cursor,
            limit=MAX_LIMIT,
            include_hashes=include_hashes,
        )
        yield from current.body.splitlines(keepends=True)
        if current.next_cursor is None:
            return
        cursor = current.next_cursor
