"""Searching the users of one tenant (api-server §7.5, §1.9, §1.11; docs/search.md).

There are exactly two plans: a request that is one `is` filter on an indexed attribute
is answered from an index (one GetItem or Query); anything else reads a bounded window
of the tenant+mode partition, with a continuation for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from portcullis.access import userscope
from portcullis.access.callers import Caller
from portcullis.platform import config
from portcullis.search import query as search
from portcullis.store import tenants as tenant_store
from portcullis.store import users as store
from portcullis.users.rendering import Renderer

# Bounds of what an exact search may put into a key: ids are at most 15 digits, emails
# 254 characters, usernames 100, uuids 36.
MAX_USER_ID = 10**15
MAX_INDEXED_VALUE_LENGTH = 254
# Exact lookups that an index answers: attribute -> how to find the one candidate.
INDEXED_ATTRIBUTES = ("email", "username", "phoneNumber", "userUuid", "userId")


def search_record(user: store.UserItem) -> dict[str, Any]:
    """The searchable attributes of §1.11, cheap to build for every user of a tenant;
    the full User object is rendered only for the page that is returned."""
    return {
        "userId": int(user.userId),
        "userUuid": user.userUuid,
        "email": user.email,
        "username": user.username,
        "name": user.name or "",
        "phoneNumber": user.phoneNumber,
        "image": user.image,
        "locked": bool(user.locked),
        "isConfirmed": bool(user.isEmailConfirmed),
        "isEmailConfirmed": bool(user.isEmailConfirmed),
        "isPhoneNumberConfirmed": bool(user.isPhoneNumberConfirmed),
        "isMfaRequired": bool(user.isMfaRequired),
        "createdAt": user.createdAt,
        "updatedAt": user.updatedAt,
        "lastActiveAt": user.lastActiveAt,
        "data": user.data or {},
    }


def exact_lookup(body: Mapping[str, Any] | None) -> tuple[str, Any] | None:
    """(attr, value) when the whole request is one `is` filter on an indexed attribute.

    Only then can the answer come from one GetItem/Query; any other filter, a `search`
    text, or a second filter means reading the partition (docs/search.md).
    """
    if not isinstance(body, Mapping) or body.get("search") not in (None, ""):
        return None
    filters = body.get("filters")
    if not isinstance(filters, Mapping):
        return None
    groups = filters.get("filterGroups")
    if not isinstance(groups, list) or len(groups) != 1 or not isinstance(groups[0], Mapping):
        return None
    items = groups[0].get("filters")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], Mapping):
        return None
    flt = items[0]
    attr, value = flt.get("attr"), flt.get("value")
    if flt.get("comparison") != "is" or attr not in INDEXED_ATTRIBUTES:
        return None
    if attr == "userId":
        ok = (
            flt.get("type") == "number"
            and isinstance(value, int)
            and not isinstance(value, bool)
            and value <= MAX_USER_ID
        )
    else:
        ok = flt.get("type") == "string" and isinstance(value, str) and bool(value.strip())
    return (str(attr), value) if ok else None


def _indexed_candidate(mode: str, tenant_id: str, attr: str, value: Any) -> store.UserItem | None:
    """Email, username and phone go through their uniqueness guard (consistent reads, so
    a user is searchable as soon as it is created); a uuid through gsi1."""
    if attr == "userId":
        return store.get_user(mode, tenant_id, value, consistent=True) if value > 0 else None
    if len(value) > MAX_INDEXED_VALUE_LENGTH:
        return None  # longer than any stored value; and DynamoDB keys are size-limited
    if attr == "userUuid":
        return store.get_by_uuid(mode, tenant_id, value)
    return store.get_by_unique(mode, tenant_id, attr, value)


def find(
    mode: str,
    tenant: tenant_store.TenantItem,
    body: Mapping[str, Any] | None,
    *,
    role_scope: search.RoleScope | None = None,
) -> dict[str, Any]:
    """Search users owned by `tenant` (§7.5) and return the §1.9 envelope.

    The request is validated in full first; an exact lookup is answered from an index,
    anything else reads the tenant+mode partition page by page.
    """
    request = search.parse_search_request(body, search.USER_CATALOG, role_scope=role_scope)
    exact = exact_lookup(body)
    candidates: Iterable[store.UserItem]
    continuation = None
    if exact is not None:
        found = _indexed_candidate(mode, tenant.tenantId, exact[0], exact[1])
        candidates = [found] if found is not None else []
    else:
        # A bounded window of the partition per request (issue 8): the cost of one
        # search no longer grows with the tenant; the rest is a continuation away.
        start = None if request.after is None else int(request.after)
        candidates, after = store.read_users(
            mode, tenant.tenantId, after=start, limit=config.search_scan_limit()
        )
        continuation = None if after is None else search.continuation_token(str(after))
    by_id: dict[int, store.UserItem] = {}
    records: list[dict[str, Any]] = []
    for user in candidates:
        record = search_record(user)
        if request.matches(record, user.roles or {}):
            by_id[record["userId"]] = user
            records.append(record)
    page, total = search.order_and_page(records, request)
    render = Renderer.for_tenant(mode, tenant.tenantId, tenant)
    results = [render(by_id[record["userId"]]) for record in page]
    return search.list_envelope(
        results, total, request.page, request.limit, continuation=continuation
    )


def find_for(who: Caller, tenant: tenant_store.TenantItem, body: Any) -> dict[str, Any]:
    """`find` as a server API caller may run it: role filters reach only the tenants it
    may read, and a caller scoped below the workspace sees only the roles inside its
    subtree (`access.userscope`)."""
    found = find(
        who.mode, tenant, body, role_scope=lambda tenant_id: who.can_reach(tenant_id, "read")
    )
    return userscope.scope(who, tenant, "read").shown_list(found)
