"""A user's linked SSO identities (provider and subject; docs/sso.md "Linked
identities"): read by an admin, and unlinked, after which the next sign-on with that
identity matches by verified email again or creates a new user."""

from __future__ import annotations

from typing import Any

from portcullis.platform.errors import NotFound
from portcullis.sso import providers
from portcullis.store import sso as store
from portcullis.store import users as user_store
from portcullis.users.records import Tenant


def _user(mode: str, tenant_id: str, user_uuid: str) -> user_store.UserItem:
    user = user_store.get_by_uuid(mode, tenant_id, user_uuid) if len(user_uuid) <= 64 else None
    if user is None:
        raise NotFound("User not found")
    return user


def view(item: store.SsoIdentityItem) -> dict[str, Any]:
    name, _, provider_id = item.provider.partition("#")
    body: dict[str, Any] = {"provider": name, "subject": item.subject, "linkedAt": item.linkedAt}
    if provider_id:
        body["providerId"] = provider_id
    return body


def with_identities(
    body: dict[str, Any], tenant: Tenant, user: user_store.UserItem
) -> dict[str, Any]:
    """A single server read of a user carries its linked identities (`ssoIdentities`, an
    extension; docs/sso.md): one index query, so lists and searches leave it out."""
    found = store.user_identities(tenant.mode, tenant.tenantId, int(user.userId))
    body["ssoIdentities"] = [view(item) for item in found]
    return body


def list_for(mode: str, tenant_id: str, user_uuid: str) -> dict[str, Any]:
    user = _user(mode, tenant_id, user_uuid)
    found = store.user_identities(mode, tenant_id, int(user.userId))
    return {"userUuid": user.userUuid, "identities": [view(item) for item in found]}


def unlink(
    mode: str, tenant_id: str, user_uuid: str, provider: str, subject: str
) -> dict[str, Any]:
    """`provider` is a provider name, or `custom:{providerId}` for a custom one."""
    user = _user(mode, tenant_id, user_uuid)
    name, _, provider_id = provider.partition(":")
    if name not in providers.ALL:
        raise NotFound("Identity not found")
    key = f"custom#{provider_id}" if name == providers.CUSTOM else name
    item = store.find_identity(mode, tenant_id, key, subject)
    if item is None or int(item.userId) != int(user.userId):
        raise NotFound("Identity not found")
    store.delete_identity(item)
    return list_for(mode, tenant_id, user_uuid)
