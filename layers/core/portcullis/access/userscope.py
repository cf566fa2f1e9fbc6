"""Which users a caller scoped to one tenant may address, and what it may see of them.

A caller's rights end at the subtree of its *root* tenant (`Caller.root`): a child
tenant's API key, or a token whose user holds its admin role only in that child. Users
normally live in the workspace while holding roles in child tenants (api-server §9.8),
so "the user lives in my tenant" is not the test. The rules, enforced on every route
that reaches a user through `/v0/tenants/{C}/...` or a scoped home tenant:

- a user is *addressable* only if it is owned by a tenant of the subtree or holds a
  role in one (or is created by the very call); any other user is `404 User not found`,
  the same answer as for a user that does not exist (no enumeration);
- answers show only the roles held inside the subtree (`authorization`);
- an invitation to an existing user the subtree does not *own* (even one holding a
  role in it: it may be a workspace admin too) is sent by email as usual but its link
  never appears in the answer, in any mode. A link is a sign-in as that user.

A caller rooted at a workspace (no ancestors) reaches everything of that workspace, so
none of this costs it a read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portcullis.access.callers import Caller, Level
from portcullis.platform.errors import NotFound
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store

USER_NOT_FOUND = "User not found"


@dataclass
class Scope:
    """The subtree of `root` in `mode`; tenant reads are cached for one request."""

    mode: str
    root: tenant_store.TenantItem
    _known: dict[str, tenant_store.TenantItem | None] = field(default_factory=dict)

    @property
    def whole_workspace(self) -> bool:
        return not self.root.ancestors

    def contains(self, tenant_id: str) -> bool:
        """`tenant_id` is the root or one of its descendants."""
        if tenant_id == self.root.tenantId:
            return True
        if tenant_id not in self._known:
            self._known[tenant_id] = tenant_store.get_tenant(self.mode, tenant_id)
        tenant = self._known[tenant_id]
        return tenant is not None and self.root.tenantId in tenant.ancestors

    def owns(self, user: user_store.UserItem) -> bool:
        """The user record itself lives in the subtree (not just some of its roles)."""
        return self.whole_workspace or self.contains(user.tenantId)

    def addressable(self, user: user_store.UserItem) -> bool:
        return self.holds_in_scope(user.tenantId, user.roles or {})

    def holds_in_scope(self, owner_id: str, roles: Mapping[str, Iterable[str]]) -> bool:
        """A user owned by `owner_id` with `roles` is inside the subtree."""
        if self.whole_workspace or self.contains(owner_id):
            return True
        return any(self.contains(t) for t, names in roles.items() if names)

    def require(self, user: user_store.UserItem) -> user_store.UserItem:
        """The user, if addressable; else the answer a missing user gets."""
        if not self.addressable(user):
            raise NotFound(USER_NOT_FOUND)
        return user

    def shown(self, body: dict[str, Any]) -> dict[str, Any]:
        """A User object with only the roles held inside the subtree."""
        if self.whole_workspace:
            return body
        authorization = body.get("authorization")
        if isinstance(authorization, dict):
            body["authorization"] = {
                t: entry for t, entry in authorization.items() if self.contains(t)
            }
        return body

    def shown_list(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """A list envelope of User objects, each with only in-subtree roles."""
        for item in envelope.get("results") or []:
            self.shown(item)
        return envelope


def scope(who: Caller, tenant: tenant_store.TenantItem, level: Level) -> Scope:
    """The scope of `who` acting on `tenant` (already checked to be within reach)."""
    root_id = who.root(tenant, level)
    if root_id == tenant.tenantId:
        return Scope(who.mode, tenant)
    root = tenant_store.get_tenant(who.mode, root_id)
    if root is None:  # the root was deleted meanwhile: the addressed tenant bounds it
        return Scope(who.mode, tenant)
    return Scope(who.mode, root)
