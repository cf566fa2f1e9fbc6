"""Per-workspace sender domains: which email domains a workspace may send from.

One item per workspace, outside the tenant partitions (an operator setting that holds
in both modes and that no API route can write): `WORKSPACE#<id>` / `SENDER_DOMAINS`.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist

from portcullis.store.base import Item

SK = "SENDER_DOMAINS"


class SenderDomainsItem(Item):
    workspaceId = UnicodeAttribute()
    domains = UnicodeSetAttribute(null=True)
    updatedAt = UnicodeAttribute()


def _pk(workspace_id: str) -> str:
    return f"WORKSPACE#{workspace_id}"


def get_domains(workspace_id: str) -> set[str]:
    try:
        item = SenderDomainsItem.get(_pk(workspace_id), SK)
    except DoesNotExist:
        return set()
    return set(item.domains or ())


def add_domain(workspace_id: str, domain: str, updated_at: str) -> None:
    """Add atomically (a set ADD), so two operators adding at once both win."""
    _change(workspace_id, SenderDomainsItem.domains.add({domain}), updated_at)


def remove_domain(workspace_id: str, domain: str, updated_at: str) -> None:
    """Remove atomically (a set DELETE); removing the last one drops the attribute."""
    _change(workspace_id, SenderDomainsItem.domains.delete({domain}), updated_at)


def _change(workspace_id: str, action: Any, updated_at: str) -> None:
    SenderDomainsItem(_pk(workspace_id), SK).update(
        actions=[
            SenderDomainsItem.type.set("senderDomains"),
            SenderDomainsItem.workspaceId.set(workspace_id),
            action,
            SenderDomainsItem.updatedAt.set(updated_at),
        ]
    )
