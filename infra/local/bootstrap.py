"""The workspace a fresh local install starts with: one tenant, its API keys and the
random password of its test-mode seed users.

Without it a developer could not call a single admin endpoint, because creating the first
tenant needs a key. It is created once through the core (`portcullis.tenants.workspace`), saved
with its keys (0600, they are secrets) and reused on later starts, as long as the saved
table still holds it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.persistence import LOCAL_FILE, WORKSPACE_FILE, read_json, write_json

WORKSPACE_NAME = "Local workspace"


@dataclass(frozen=True)
class Workspace:
    """The bootstrap tenant: `keys[mode][type]` is a full API key ("test"/"live" x "admin"...);
    `seed_password` logs in the test-mode seed users (admin@example.com, ...)."""

    tenant_id: str
    keys: Mapping[str, Mapping[str, str]]
    seed_password: str | None = None

    def key(self, mode: str = "test", kind: str = "admin") -> str:
        return self.keys[mode][kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "keys": {m: dict(k) for m, k in self.keys.items()},
            "seedPassword": self.seed_password,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Workspace:
        password = data.get("seedPassword")
        return cls(
            tenant_id=str(data["tenantId"]),
            keys=data.get("keys") or {},
            seed_password=str(password) if password else None,
        )


def create_workspace() -> Workspace:
    """Create the tenant through the core, exactly as an admin CLI would."""
    module = importlib.import_module("portcullis.tenants.workspace")
    created = module.create_workspace(name=WORKSPACE_NAME)
    if isinstance(created, Mapping):
        return Workspace(
            tenant_id=str(created["tenant_id"]),
            keys=created["keys"],
            seed_password=created.get("seed_password"),
        )
    return Workspace(
        tenant_id=str(created.tenant_id),
        keys=created.keys,
        seed_password=getattr(created, "seed_password", None),
    )


def replace_seed_password(workspace: Workspace) -> Workspace:
    """A workspace saved before seed users had a random password (they still have the
    old fixed one in the saved table): give them a new one, through the core."""
    module = importlib.import_module("portcullis.tenants.seedusers")
    password, _ = module.replace_password(workspace.tenant_id)
    return Workspace(tenant_id=workspace.tenant_id, keys=workspace.keys, seed_password=password)


def load_workspace(data_dir: Path) -> Workspace | None:
    data = read_json(data_dir / WORKSPACE_FILE)
    return Workspace.from_json(data) if data else None


def save_workspace(data_dir: Path, workspace: Workspace) -> None:
    write_json(data_dir / WORKSPACE_FILE, workspace.to_json(), private=True)


def write_local_file(data_dir: Path, base_url: str, workspace: Workspace | None) -> None:
    """`local.json`: how scripts and e2e tests find the running service and its admin keys."""

    def admin_key(mode: str) -> str | None:
        return (workspace.keys.get(mode) or {}).get("admin") if workspace else None

    write_json(
        data_dir / LOCAL_FILE,
        {
            "baseUrl": base_url,
            "tenantId": workspace.tenant_id if workspace else None,
            "testAdminKey": admin_key("test"),
            "liveAdminKey": admin_key("live"),
        },
        private=True,
    )


def banner(base_url: str, data_dir: Path, workspace: Workspace | None, route_count: int) -> str:
    lines = [
        "",
        "Portcullis is running locally",
        f"  base URL    {base_url}",
        f"  routes      {route_count}",
        f"  data dir    {data_dir}",
        f"  outbox      {base_url}/_local/outbox   (emails and SMS sent)",
        f"  events      {base_url}/_local/events   (EventBridge events)",
    ]
    if workspace is not None:
        lines.append(f"  tenant id   {workspace.tenant_id}")
        for mode in sorted(workspace.keys):
            for kind in sorted(workspace.keys[mode]):
                lines.append(f"  {mode + ' ' + kind + ' key':<20}{workspace.keys[mode][kind]}")
        if workspace.seed_password:
            lines.append(f"  {'seed password':<20}{workspace.seed_password}")
            lines.append(
                f"  {'':<20}(test mode: admin@, member@, viewer@, unconfirmed@example.com)"
            )
    lines.append("Press Ctrl-C to stop (state is saved).")
    return "\n".join(lines) + "\n"
