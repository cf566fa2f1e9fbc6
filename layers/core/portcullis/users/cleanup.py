"""After a tenant is deleted: its role assignments leave the users elsewhere, and the
users it owned are deleted (each firing its `user.delete` webhook). Runs as part of the
`tenant.cleanup` outbox task (`tenants.service.cleanup_deleted`), so it is retried
until it completes; every step is idempotent."""

from __future__ import annotations

from portcullis.platform.errors import NotFound
from portcullis.store import roles as role_store
from portcullis.store import users as store
from portcullis.users.roleassignments import drop_roles
from portcullis.users.service import delete


def cleanup_deleted_tenant(mode: str, tenant_id: str) -> None:
    """Strip the tenant's roles from every holder, then delete the users it owned."""
    for assignment in role_store.holders(mode, tenant_id):
        user = store.get_user(mode, assignment.userTenantId, int(assignment.userId))
        if user is not None and assignment.userTenantId != tenant_id:
            drop_roles(user, tenant_id, None)
        # Also clears an assignment whose user record no longer listed the tenant, or
        # whose user is gone or was owned by the deleted tenant itself.
        role_store.delete_assignment(
            mode, tenant_id, assignment.userTenantId, int(assignment.userId)
        )
    for user in list(store.iterate_users(mode, tenant_id)):
        try:
            delete(user)
        except NotFound:
            continue
