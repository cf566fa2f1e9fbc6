"""Webhook signing secrets and webhook bearer keys at rest (`webhooks/secrets.py`,
`webhooks/bearer.py`) against moto: created on first use, rotated with a 24-hour overlap,
recoverable only through KMS — the table alone holds no usable secret."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag

from portcullis.access import apikeys as keys
from portcullis.platform.errors import Forbidden
from portcullis.platform.timefmt import now_iso
from portcullis.store import apikeys as key_store
from portcullis.store import tenants as tenant_store
from portcullis.store import webhooksecrets as store
from portcullis.tenants.workspace import create_workspace
from portcullis.webhooks import bearer, secrets

SECRET = re.compile(r"whsec_[0-9a-f]{64}")


@pytest.fixture
def workspace_id(aws: str) -> str:
    return create_workspace("Webhook secret unit tests").tenant_id


def _stored_text(mode: str, workspace_id: str) -> str:
    item = store.get_secret(mode, workspace_id)
    assert item is not None
    return str(item.serialize())


def test_the_first_secret_is_created_on_first_use(workspace_id: str) -> None:
    first = secrets.signing_secrets("test", workspace_id)
    assert len(first) == 1 and SECRET.fullmatch(first[0])
    assert secrets.signing_secrets("test", workspace_id) == first
    assert secrets.signing_secrets("live", workspace_id) != first  # one per mode
    assert first[0] not in _stored_text("test", workspace_id)


def test_rotation_keeps_the_previous_secret_for_the_overlap_only(workspace_id: str) -> None:
    old = secrets.rotate("test", workspace_id)
    assert secrets.signing_secrets("test", workspace_id) == [old]  # nothing to overlap with
    new = secrets.rotate("test", workspace_id)
    assert SECRET.fullmatch(new) and new != old
    assert secrets.signing_secrets("test", workspace_id) == [new, old]
    stored = _stored_text("test", workspace_id)
    assert new not in stored and old not in stored
    # A third rotation drops the oldest at once: two secrets at most.
    newest = secrets.rotate("test", workspace_id)
    assert secrets.signing_secrets("test", workspace_id) == [newest, new]
    # Once the overlap has passed, only the current secret signs.
    item = store.get_secret("test", workspace_id)
    assert item is not None
    item.update(actions=[store.WebhookSecretItem.previousUntil.set("2020-01-01T00:00:00.000Z")])
    assert secrets.signing_secrets("test", workspace_id) == [newest]


def test_a_concurrent_rotation_is_not_lost(workspace_id: str) -> None:
    secrets.rotate("test", workspace_id)
    stale = store.get_secret("test", workspace_id)
    winner = secrets.rotate("test", workspace_id)
    with pytest.raises(store.SecretChanged):
        store.put_secret(
            "test",
            workspace_id,
            current="{}",
            previous=None,
            previous_until=None,
            rotated_at=now_iso(),
            replaces=stale,
        )
    assert secrets.signing_secrets("test", workspace_id)[0] == winner


def test_a_sealed_secret_does_not_open_for_another_workspace(workspace_id: str) -> None:
    secrets.rotate("test", workspace_id)
    item = store.get_secret("test", workspace_id)
    assert item is not None
    other = create_workspace("Another").tenant_id
    with pytest.raises((ClientError, InvalidTag)):  # KMS or AES-GCM refuses the context
        secrets._open(item.current, "test", other)


def test_only_a_workspace_has_a_secret(workspace_id: str) -> None:
    tenant = tenant_store.get_tenant("test", workspace_id)
    assert tenant is not None
    assert SECRET.fullmatch(secrets.rotate_for(tenant))
    child = tenant_store.TenantItem(**{**tenant.attribute_values, "ancestors": [workspace_id]})
    with pytest.raises(Forbidden):
        secrets.rotate_for(child)
    assert secrets.workspace_of("child123", ["parent12", workspace_id]) == workspace_id
    assert secrets.workspace_of(workspace_id, []) == workspace_id


def test_webhook_keys_are_recoverable_and_the_newest_active_one_is_sent(
    workspace_id: str,
) -> None:
    # The workspace's bootstrap made one webhook key per mode: each is recoverable.
    bootstrap = bearer.bearer_key("test", workspace_id)
    assert bootstrap is not None and bootstrap.startswith(f"uf_test_webhook_{workspace_id}_")
    live = bearer.bearer_key("live", workspace_id)
    assert live is not None and live.startswith(f"uf_live_webhook_{workspace_id}_")
    readonly = keys.create(workspace_id, "test", "readonly")["key"]
    readonly_item = keys.lookup(readonly)
    assert readonly_item is not None and readonly_item.sealedKey is None
    newer = keys.create(workspace_id, "test", "webhook")["key"]
    assert bearer.bearer_key("test", workspace_id) == newer
    assert bearer.bearer_key("live", workspace_id) == live
    newer_item = keys.lookup(newer)
    assert newer_item is not None
    assert newer not in str(newer_item.serialize())  # sealed, not in clear
    key_store.invalidate_key(newer_item, now_iso())
    assert bearer.bearer_key("test", workspace_id) == bootstrap
    # A key made before keys were sealed cannot be recovered: no header rather than a guess.
    for item in key_store.list_keys("test", workspace_id, "webhook"):
        item.update(actions=[key_store.ApiKeyItem.sealedKey.remove()])
    assert bearer.bearer_key("test", workspace_id) is None
