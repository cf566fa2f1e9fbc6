"""Workspace bootstrap: a top-level tenant in both modes, its keys and the test-mode seed users."""

from __future__ import annotations

from dataclasses import dataclass

from portcullis import keys, tenants, users
from portcullis.store import users as user_store

SEED_PASSWORD = "testmodepassword"
SEED_USERS = (
    ("admin", "Admin User", "admin", True),
    ("member", "Member User", "member", True),
    ("viewer", "Viewer User", "viewer", True),
    ("unconfirmed", "Unconfirmed User", None, False),
)


@dataclass(frozen=True)
class WorkspaceCredentials:
    tenant_id: str
    name: str
    keys: dict[str, dict[str, str]]  # mode -> key type -> full key (shown once)


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
    for username, full_name, role, confirmed in SEED_USERS:
        item = users.new_user(
            "test",
            test.tenantId,
            email=f"{username}@example.com",
            username=username,
            name=full_name,
            password=SEED_PASSWORD,
            is_email_confirmed=confirmed,
            roles={test.tenantId: [role]} if role else None,
        )
        users.create(item, user_store.Extra.none())
    return WorkspaceCredentials(tenant_id=test.tenantId, name=name, keys=issued)
