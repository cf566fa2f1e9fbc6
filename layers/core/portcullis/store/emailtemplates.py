"""Tenant overrides of the email and SMS templates, one item per tenant, mode and type.

Kept in the tenant's partition (`TENANT#<mode>#<id>` / `EMAILTEMPLATE#<type>`), so
deleting the tenant purges them with its other items. Only the parts the admin set are
stored (`subject`, `html`, `text`); a missing part falls back to the shipped default.
"""

from __future__ import annotations

from collections.abc import Sequence

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from portcullis.store.base import Item, delete_found, find, owned_item, saved, tenant_pk

SK_PREFIX = "EMAILTEMPLATE#"


class EmailTemplateItem(Item):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    templateType = UnicodeAttribute()
    parts = JSONAttribute(default=dict)  # part -> template source
    updatedAt = UnicodeAttribute()


def _key(mode: str, tenant_id: str, template_type: str) -> tuple[str, str]:
    return tenant_pk(mode, tenant_id), f"{SK_PREFIX}{template_type}"


def get(mode: str, tenant_id: str, template_type: str) -> EmailTemplateItem | None:
    return find(EmailTemplateItem, *_key(mode, tenant_id, template_type))


def first_of(mode: str, tenant_ids: Sequence[str], template_type: str) -> EmailTemplateItem | None:
    """The override of the first tenant in `tenant_ids` that has one, in one BatchGetItem."""
    if not tenant_ids:
        return None
    keys = [_key(mode, tenant_id, template_type) for tenant_id in tenant_ids]
    found = {item.tenantId: item for item in EmailTemplateItem.batch_get(keys)}
    return next((found[t] for t in tenant_ids if t in found), None)


def put(
    mode: str, tenant_id: str, template_type: str, parts: dict[str, str], updated_at: str
) -> EmailTemplateItem:
    pk, sk = _key(mode, tenant_id, template_type)
    item = owned_item(
        EmailTemplateItem,
        sk,
        "emailTemplate",
        pk=pk,
        mode=mode,
        tenant_id=tenant_id,
        templateType=template_type,
        parts=parts,
        updatedAt=updated_at,
    )
    return saved(item)


def delete(mode: str, tenant_id: str, template_type: str) -> bool:
    """Remove the override; False when there was none."""
    return delete_found(get(mode, tenant_id, template_type))
