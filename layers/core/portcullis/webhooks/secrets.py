"""Placeholder of whconfig's signing secrets (in memory: the local runtime is one
process). whconfig provides this: deleted at the merge."""

# whconfig provides this

from __future__ import annotations

import secrets as _random

from portcullis.store.tenants import TenantItem

_SECRETS: dict[tuple[str, str], str] = {}  # whconfig provides this


def rotate(mode: str, workspace_id: str) -> str:  # whconfig provides this
    secret = "whsec_" + _random.token_hex(32)
    _SECRETS[(mode, workspace_id)] = secret
    return secret


def signing_secrets(mode: str, workspace_id: str) -> list[str]:  # whconfig provides this
    if (mode, workspace_id) not in _SECRETS:
        rotate(mode, workspace_id)
    return [_SECRETS[(mode, workspace_id)]]


def rotate_for(tenant: TenantItem) -> str:  # whconfig provides this
    return rotate(tenant.mode, tenant.ancestors[-1] if tenant.ancestors else tenant.tenantId)
