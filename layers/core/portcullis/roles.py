"""Role definitions per tenant (api-server §1.6, §9)."""

from __future__ import annotations

DEFAULT_ROLES: tuple[str, ...] = (
    "subscriber",
    "viewer",
    "contributor",
    "support",
    "member",
    "editor",
    "author",
    "admin",
    "owner",
)
