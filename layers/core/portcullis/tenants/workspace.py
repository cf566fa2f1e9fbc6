"""Workspace bootstrap: a top-level tenant in both modes, its keys and the test-mode seed users."""

from __future__ import annotations

from dataclasses import dataclass

from portcullis.access import apikeys as keys
from portcullis.tenants import seedusers
from portcullis.tenants import service as tenants


@dataclass(frozen=True)
class WorkspaceCredentials:
    """Everything secret about a new workspace, shown to its operator once."""

    tenant_id: str
    name: str
    keys: dict[str, dict[str, str]]  # mode -> key type -> full key (shown once)
    seed_password: str  # the test-mode seed users' random password (shown once)


def create_workspace(name: str) -> WorkspaceCredentials:
    """Create the workspace tenant (same id in test and live), keys, and seed users."""
    test = tenants.create("test", name)
    tenants.create("live", name, tenant_id=test.tenantId)
    issued: dict[str, dict[str, str]] = {}
    for mode in ("test", "live"):
        issued[mode] = {
            key_type: keys.create(test.tenantId, mode, key_type)["key"]
            for key_type in keys.KEY_TYPES
        }
    seed_password = seedusers.create(test.tenantId)
    return WorkspaceCredentials(
        tenant_id=test.tenantId, name=name, keys=issued, seed_password=seed_password
    )
