"""Email addresses that bounced or complained: sends to them stop (docs/emails.md).

One item per address for the whole deployment (`EMAILSTATUS#<address>` / `EMAILSTATUS`):
every workspace sends through the same SES account, whose reputation a hard bounce or
a complaint hurts whichever tenant sends next, so the address is suppressed for all.
The outbox reads it before each email (one GetItem); the user record carries its own
copy (`emailStatus`) for display.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from portcullis.store.base import Item, delete_found, find, saved

SK = "EMAILSTATUS"
STATUSES = ("bounced", "complained")


class EmailStatusItem(Item):
    email = UnicodeAttribute()
    status = UnicodeAttribute()  # "bounced" | "complained"
    at = UnicodeAttribute()  # when SES reported it (ISO 8601)
    detail = UnicodeAttribute(null=True)  # bounce type / complaint feedback type
    # Whose email it was (the send's tags): whose user shows `emailStatus`.
    mode = UnicodeAttribute(null=True)
    tenantId = UnicodeAttribute(null=True)


def normalise(address: str) -> str:
    return address.strip().lower()


def _pk(address: str) -> str:
    return f"EMAILSTATUS#{normalise(address)}"


def get(address: str) -> EmailStatusItem | None:
    return find(EmailStatusItem, _pk(address), SK)


def mark(
    address: str,
    status: str,
    at: str,
    detail: str | None = None,
    *,
    mode: str | None = None,
    tenant_id: str | None = None,
) -> EmailStatusItem:
    """Record the address's status; a complaint is kept over a later bounce report."""
    if status not in STATUSES:
        raise ValueError(f"unknown email status {status!r}")
    current = get(address)
    if current is not None and current.status == "complained" and status == "bounced":
        return current
    item = EmailStatusItem(
        _pk(address),
        SK,
        type="emailStatus",
        email=normalise(address),
        status=status,
        at=at,
        detail=detail,
        mode=mode,
        tenantId=tenant_id,
    )
    return saved(item)


def clear(address: str) -> bool:
    """Lift the suppression (an operator's decision); False when there was none."""
    return delete_found(get(address))
