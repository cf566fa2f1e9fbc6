"""Issue 8 items 3 and 9 in the core: "end every session" really ends every one, and the
per-instance caches stay bounded whatever tenants made-up tokens name.

The sessions are written straight into the store (a batch write), because signing in
over HTTP for each would take minutes; everything else is the real code against moto.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid

import pytest

from portcullis.platform.errors import Unauthorized
from portcullis.platform.timefmt import now_iso
from portcullis.sessions import lifecycle, listing
from portcullis.store import sessions as store
from portcullis.store import users as user_store
from portcullis.store.tenants import TenantItem
from portcullis.tenancy import state as tenantstate
from portcullis.tenants.workspace import create_workspace
from portcullis.tokens import signing as tokens

# `end_all` used to read only the newest `SCAN_LIMIT` (1,000) sessions. Lowering that
# limit (and the Query page) keeps this test fast with the same meaning: more sessions
# than the listing limit, spread over several pages, all of which must end.
SCAN_LIMIT = 20
PAGE = 7
MANY = 45


@pytest.fixture(scope="module")
def tenant_id(aws: str) -> str:
    return create_workspace("Access unit tests").tenant_id


def _session(tenant_id: str, user: user_store.UserItem, expires: int) -> store.SessionItem:
    stamp = now_iso()
    return store.new_session_item(
        sessionId=str(uuid.uuid4()),
        tenantId=tenant_id,
        mode="test",
        userId=int(user.userId),
        userUuid=user.userUuid,
        kind="user",
        createdAt=stamp,
        lastActiveAt=stamp,
        authenticatedAt=stamp,
        expiresAt=expires,
        ttl=expires + 60,
    )


def test_end_all_ends_every_session_not_the_newest_thousand(
    tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "SCAN_LIMIT", SCAN_LIMIT)
    monkeypatch.setattr(lifecycle, "END_PAGE", PAGE)
    user = user_store.get_by_unique("test", tenant_id, "email", "member@example.com")
    assert user is not None
    expires = int(time.time()) + 3600
    items = [_session(tenant_id, user, expires) for _ in range(MANY)]
    with store.SessionItem.batch_write() as batch:
        for item in items:
            batch.save(item)
    ended = lifecycle.end_all("test", tenant_id, int(user.userId), "admin")
    assert len(ended) == MANY and set(ended) == {i.sessionId for i in items}
    left = [s for s in store.user_sessions("test", tenant_id, int(user.userId)) if not s.is_ended]
    assert left == []
    # Nothing left to end: a second call ends none (and reads, never fails).
    assert lifecycle.end_all("test", tenant_id, int(user.userId), "admin") == []


def test_end_all_keeps_the_excepted_session_and_tolerates_a_race(tenant_id: str) -> None:
    user = user_store.get_by_unique("test", tenant_id, "email", "viewer@example.com")
    assert user is not None
    items = [_session(tenant_id, user, int(time.time()) + 3600) for _ in range(3)]
    for item in items:
        item.save()
    # One ended meanwhile: skipped, not counted.
    lifecycle.end(items[1], "logout")
    ended = lifecycle.end_all(
        "test", tenant_id, int(user.userId), "logout_all", except_session=items[0].sessionId
    )
    assert ended == [items[2].sessionId]
    kept = store.get(items[0].sessionId)
    assert kept is not None and not kept.is_ended


def _forged(tenant: str) -> str:
    """A well-formed RS256 JWT naming `tenant`, signed by nobody."""

    def part(value: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = part({"alg": "RS256", "typ": "JWT", "kid": "x"})
    return f"{header}.{part({'tenantId': tenant, 'mode': 'test'})}.{secrets.token_urlsafe(16)}"


def test_made_up_tenants_never_grow_the_key_cache_beyond_its_bound(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each token naming an unknown tenant adds (at most) one cache entry, and the cache
    keeps no more than its bound however many such tokens arrive. The cache is rebuilt
    with a small bound (same type, same ttl) so that a few real lookups show it."""
    assert tokens._public_cache.maxsize == tokens.MAX_CACHED_TENANTS  # type: ignore[attr-defined]
    small = type(tokens._public_cache)(maxsize=8, ttl=300)  # type: ignore[call-arg]
    monkeypatch.setattr(tokens, "_public_cache", small)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    for _ in range(20):
        tenant = "".join(secrets.choice(alphabet) for _ in range(8))
        with pytest.raises(Unauthorized):
            tokens.verify(_forged(tenant))
    assert 0 < len(tokens._public_cache) <= 8


def test_the_tenant_cache_is_bounded(tenant_id: str) -> None:
    state = tenantstate.tenant_state("test", tenant_id)
    assert state is not None
    for index in range(tenantstate.MAX_CACHED_TENANTS + 10):
        other = TenantItem(state.tenant.pk, state.tenant.sk, tenantId=f"t{index:07d}")
        tenantstate.remember("test", other, None)
    assert len(tenantstate._cache) <= tenantstate.MAX_CACHED_TENANTS
    assert tenantstate.tenant_state("test", tenant_id) is not None
