"""Who may choose the From address of a tenant's emails, and which addresses are allowed.

Every workspace of a deployment sends through the same SES account, so a `senderEmail`
is an identity shared by all of them: left open, any tenant admin could send mail as
another workspace (or as the operator). The rule: only an admin of the workspace may set
it (a child tenant's admin may not), and only to an address on a domain the deployment
allows for that workspace: `SENDER_DOMAINS` (every workspace) or the domains an operator
allowed for this one (`python -m portcullis.admin allow-sender-domain`). The domain is
checked again whenever an email is sent, so removing a domain takes effect at once.
"""

from __future__ import annotations

from typing import Any

from portcullis.platform import config
from portcullis.platform.errors import BadRequest, Forbidden
from portcullis.platform.timefmt import now_iso
from portcullis.store import senderdomains as store
from portcullis.store import tenants as tenant_store
from portcullis.tenancy import settings
from portcullis.tenancy.domains import domain_problem, normalise_host

FIELD = "senderEmail"
NOT_WORKSPACE_ADMIN = f'"{FIELD}" can only be changed by an admin of the workspace'
DOMAIN_NOT_ALLOWED = f'"{FIELD}" must be an address on a sender domain allowed for the workspace'


def workspace_of(tenant: tenant_store.TenantItem) -> str:
    """The top-level tenant: ancestors are listed nearest first."""
    return tenant.ancestors[-1] if tenant.ancestors else tenant.tenantId


def domain_of(address: str) -> str:
    return normalise_host(address.rpartition("@")[2])


def allowed_domains(workspace_id: str) -> set[str]:
    deployment = {normalise_host(d) for d in config.sender_domains()}
    return deployment | store.get_domains(workspace_id)


def is_allowed(address: str, workspace_id: str) -> bool:
    """The deployment's own default sender is always allowed (it is what a tenant
    without a `senderEmail` gets anyway); anything else needs an allowed domain."""
    if address.lower() == config.sender_email().lower():
        return True
    return "@" in address and domain_of(address) in allowed_domains(workspace_id)


def check_settings_change(caller: Any, tenant: tenant_store.TenantItem, change: Any) -> None:
    """Refuse a settings update that changes `senderEmail` unless the caller is an admin
    of the tenant's workspace and the new address is allowed for it. Sending back the
    stored value unchanged (a read-modify-write of the settings) is always fine.

    `caller` is a `callers.Caller` (anything with `can_reach(tenant_id, level)`).
    """
    if not isinstance(change, dict) or FIELD not in change:
        return
    wanted = change[FIELD]
    if wanted == settings.read(tenant.mode, tenant.tenantId).senderEmail:
        return
    workspace_id = workspace_of(tenant)
    if not caller.can_reach(workspace_id, "admin"):
        raise Forbidden(NOT_WORKSPACE_ADMIN)
    # None clears it; anything malformed is refused by the settings validation.
    well_formed = isinstance(wanted, str) and settings.EMAIL_PATTERN.match(wanted)
    if well_formed and not is_allowed(wanted, workspace_id):
        raise BadRequest(DOMAIN_NOT_ALLOWED)


def sender_if_allowed(address: str | None, workspace_id: str) -> str | None:
    """`address` if it may still be used as the From of the workspace's emails."""
    if address and is_allowed(address, workspace_id):
        return address
    return None


# --- operator commands (python -m portcullis.admin ...) ----------------------------------


def _workspace(workspace_id: str) -> tenant_store.TenantItem:
    tenant = tenant_store.get_tenant("live", workspace_id)
    if tenant is None or tenant.ancestors:
        raise ValueError(f"{workspace_id!r} is not a workspace (a top-level tenant)")
    return tenant


def _domain(domain: str) -> str:
    problem = domain_problem(domain)
    if problem:
        raise ValueError(f"sender domain {domain!r} {problem}")
    return normalise_host(domain)


def allow_domain(workspace_id: str, domain: str) -> set[str]:
    _workspace(workspace_id)
    store.add_domain(workspace_id, _domain(domain), now_iso())
    return store.get_domains(workspace_id)


def remove_domain(workspace_id: str, domain: str) -> set[str]:
    _workspace(workspace_id)
    store.remove_domain(workspace_id, normalise_host(domain), now_iso())
    return store.get_domains(workspace_id)


def list_domains(workspace_id: str) -> tuple[set[str], set[str]]:
    """(this workspace's own domains, the deployment-wide ones)."""
    _workspace(workspace_id)
    return store.get_domains(workspace_id), {normalise_host(d) for d in config.sender_domains()}
