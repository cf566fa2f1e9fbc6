"""The admin side of email templates (`functions/emails`, docs/emails.md): read, save,
remove and preview a tenant's override of one email or SMS type.

A template is checked in full when it is saved (`emailtemplates.validate`): syntax,
unknown variables, anything that reaches Python internals, size, and a render with
sample values. What is stored therefore always renders; a send never finds out late
that a template was broken. The caller's scope (admin of the tenant) is checked by the
function before anything here runs.
"""

from __future__ import annotations

from typing import Any

from portcullis.messaging import emailtemplates
from portcullis.messaging.emailtemplates import TemplateProblem
from portcullis.platform.errors import BadRequest, NotFound
from portcullis.platform.timefmt import now_iso
from portcullis.store import emailtemplates as store
from portcullis.store import tenants as tenant_store

TYPE_NOT_FOUND = "Email type not found"


def check_type(template_type: str) -> str:
    if template_type not in emailtemplates.TYPES:
        raise NotFound(TYPE_NOT_FOUND)
    return template_type


def _parts_from(template_type: str, body: Any, *, required: bool) -> dict[str, str]:
    """The template parts of a request body, each validated (400 naming the field)."""
    if body is None and not required:
        return {}
    if not isinstance(body, dict):
        raise BadRequest('"body" must be a JSON object')
    allowed = emailtemplates.parts_of(template_type)
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise BadRequest(f'"{extra[0]}" is not a part of the {template_type} template')
    parts = {part: body[part] for part in allowed if body.get(part) is not None}
    if required and not parts:
        raise BadRequest(f'"{allowed[0]}" is required')
    for part, source in parts.items():
        try:
            emailtemplates.validate(template_type, part, source)
        except TemplateProblem as problem:
            raise BadRequest(problem.message) from problem
    return parts


def _source(
    mode: str, tenant: tenant_store.TenantItem, template_type: str
) -> tuple[str, dict[str, str], str | None]:
    """(where the template in use comes from, its parts, when they were saved)."""
    own = store.get(mode, tenant.tenantId, template_type)
    if own is not None:
        return "tenant", dict(own.parts or {}), own.updatedAt
    if tenant.ancestors:
        inherited = store.get(mode, tenant.ancestors[-1], template_type)
        if inherited is not None:
            return "workspace", dict(inherited.parts or {}), inherited.updatedAt
    return "default", {}, None


def describe(mode: str, tenant: tenant_store.TenantItem, template_type: str) -> dict[str, Any]:
    """The template the tenant's emails of this type use: each part, and per part whether
    it is the tenant's, its workspace's or the shipped default."""
    source, parts, updated_at = _source(mode, tenant, template_type)
    defaults = emailtemplates.default(template_type)
    answer: dict[str, Any] = {
        "type": template_type,
        "tenantId": tenant.tenantId,
        "mode": mode,
        "source": source,
        "updatedAt": updated_at,
        "variables": sorted(emailtemplates.DOCUMENTED_VARIABLES),
    }
    for part in emailtemplates.parts_of(template_type):
        answer[part] = parts.get(part) or defaults[part]
    answer["customParts"] = [p for p in emailtemplates.parts_of(template_type) if p in parts]
    return answer


def save(
    mode: str, tenant: tenant_store.TenantItem, template_type: str, body: Any
) -> dict[str, Any]:
    """Replace the tenant's override with the parts in `body` (the others: default)."""
    parts = _parts_from(template_type, body, required=True)
    store.put(mode, tenant.tenantId, template_type, parts, now_iso())
    return describe(mode, tenant, template_type)


def remove(mode: str, tenant: tenant_store.TenantItem, template_type: str) -> dict[str, Any]:
    """Drop the tenant's override (idempotent); answers the template now in use."""
    store.delete(mode, tenant.tenantId, template_type)
    return describe(mode, tenant, template_type)


def preview(
    mode: str, tenant: tenant_store.TenantItem, template_type: str, body: Any
) -> dict[str, Any]:
    """Render the template in use, or the parts posted in `body` over it, with sample
    values (the tenant's own name as workspace and tenant name)."""
    posted = _parts_from(template_type, body, required=False)
    _, parts, _ = _source(mode, tenant, template_type)
    parts.update(posted)
    sample = {
        **emailtemplates.SAMPLE,
        "workspace_name": tenant.name,
        "tenant_name": tenant.name,
    }
    try:
        rendered = emailtemplates.render(template_type, sample, parts)
    except Exception as exc:  # a stored template always rendered when it was saved
        raise BadRequest(f"The template cannot be rendered: {exc}") from exc
    return {"type": template_type, "tenantId": tenant.tenantId, "mode": mode, **rendered}
