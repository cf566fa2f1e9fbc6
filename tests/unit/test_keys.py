"""API key changes that race another request end in a clear answer, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from portcullis.access import apikeys as keys
from portcullis.platform.timefmt import now_iso
from portcullis.store import apikeys as store
from portcullis.tenants.workspace import create_workspace


@pytest.fixture(scope="module")
def tenant_id(aws: str) -> str:
    return create_workspace("Key unit tests").tenant_id


def _second_key(tenant_id: str) -> str:
    return keys.create(tenant_id, "test", "readonly")["key"]


def test_a_stale_copy_reports_the_change(tenant_id: str) -> None:
    key = _second_key(tenant_id)
    first, stale = keys.lookup(key), keys.lookup(key)
    assert first is not None and stale is not None
    store.invalidate_key(first, now_iso())
    with pytest.raises(store.KeyChanged):
        store.invalidate_key(stale, now_iso())
    with pytest.raises(store.KeyChanged):
        store.delete_key(stale)


@pytest.mark.parametrize("operation", [keys.invalidate, keys.delete])
def test_a_raced_change_is_read_again(tenant_id: str, monkeypatch: Any, operation: Any) -> None:
    key = _second_key(tenant_id)
    stale = keys.lookup(key)
    assert stale is not None
    store.invalidate_key(keys.lookup(key), now_iso())  # the other request wins
    reads = iter([stale])
    original = keys._in_scope_key
    monkeypatch.setattr(keys, "_in_scope_key", lambda *args: next(reads, None) or original(*args))
    answer = operation(key, "test", lambda _tenant: True)
    assert answer["message"] == "OK"
    assert answer["result"]["isActive"] is False


def test_the_queued_clean_up_removes_what_a_dead_deletion_left(aws: str) -> None:
    """If the deleting request dies right after its commit, the `tenant.cleanup` task
    still removes the tenant's API keys and own items."""
    from portcullis.store import tenants as tenant_store
    from portcullis.tenants import service as tenants

    tenant = tenants.create("test", "Short-lived")
    key = keys.create(tenant.tenantId, "test", "admin")["key"]
    tenant_store.delete_tenant(tenant, [])  # the commit, and nothing after it
    assert keys.lookup(key) is not None
    tenants.cleanup_deleted("test", tenant.tenantId)
    assert keys.lookup(key) is None
    assert store.list_keys("test", tenant.tenantId, "admin") == []
