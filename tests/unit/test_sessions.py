"""Sessions in the core: rotation state, grace encryption, reuse, revocation, and the
DynamoDB call budgets of the hot paths (counted, never timed)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from argon2 import PasswordHasher

from portcullis.auth import context, password
from portcullis.credentials import passwords
from portcullis.platform.errors import Forbidden, TooManyRequests, Unauthorized
from portcullis.ratelimit import tally
from portcullis.sessions import lifecycle, listing, rotation, tokenauth
from portcullis.store import sessions as store
from portcullis.store import users as user_store
from portcullis.tenants.workspace import create_workspace
from portcullis.tokens import claims as token_claims
from portcullis.tokens import signing as tokens

# The seed users' random password per workspace created here (tenant id -> password).
SEED_PASSWORDS: dict[str, str] = {}


@pytest.fixture(scope="module")
def tenant_id(aws: str) -> str:
    created = create_workspace("Session unit tests")
    SEED_PASSWORDS[created.tenant_id] = created.seed_password
    return created.tenant_id


def _request(tenant_id: str) -> context.Request:
    return context.load(tenant_id, origin="http://localhost:3000", ip="192.0.2.1", user_agent="ua")


def _sign_in(tenant_id: str, email: str = "member@example.com") -> dict[str, Any]:
    return password.log_in(
        _request(tenant_id), identifier=email, password=SEED_PASSWORDS[tenant_id]
    )


def _bearer(token: str) -> str:
    return f"Bearer {token}"


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """Every DynamoDB operation made inside the block (pynamodb goes through botocore)."""
    from botocore.client import BaseClient

    seen: list[str] = []
    original = BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            seen.append(operation)
        return original(client, operation, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def test_grace_response_opens_only_with_the_replaced_token() -> None:
    body = {"tokens": {"access": {"value": "a"}}}
    sealed = rotation.seal_grace("refresh-token-1", "session-1", body)
    assert "refresh-token-1" not in sealed and '"a"' not in sealed
    assert rotation.open_grace("refresh-token-1", "session-1", sealed) == body
    assert rotation.open_grace("refresh-token-2", "session-1", sealed) is None
    assert rotation.open_grace("refresh-token-1", "session-2", sealed) is None
    assert rotation.open_grace("refresh-token-1", "session-1", sealed[:-4] + "AAAA") is None
    assert rotation.open_grace("refresh-token-1", "session-1", None) is None


def test_session_item_never_holds_a_token(tenant_id: str) -> None:
    body = _sign_in(tenant_id)
    item = store.get(body["sessionId"])
    assert item is not None
    stored = str(item.serialize())
    for kind in ("access", "id", "refresh"):
        assert body["tokens"][kind]["value"] not in stored
    refresh_claims = tokens.verify(body["tokens"]["refresh"]["value"]).claims
    assert refresh_claims["jti"] not in stored
    assert item.jtiDigest == lifecycle.jti_digest(refresh_claims["jti"])
    assert item.ip == "192.0.2.1" and item.userAgent == "ua"
    assert item.ttl > item.expiresAt


def test_hot_paths_stay_within_their_dynamodb_budgets(tenant_id: str) -> None:
    _sign_in(tenant_id)  # warms the signing key
    req = _request(tenant_id)  # tenant and settings: read here, cached for a few seconds
    with dynamodb_calls() as login_calls:
        body = password.log_in(
            req, identifier="member@example.com", password=SEED_PASSWORDS[tenant_id]
        )
    # The attempt counter and the account lookup go out at once (either may land first).
    assert sorted(login_calls[:2]) == ["Query", "UpdateItem"]
    assert login_calls[2:] == ["TransactWriteItems"]
    access = body["tokens"]["access"]["value"]
    # A fresh tally: the batched `requestsPerIp` addition falls on every k-th request
    # only (k = 15 by default), never on the first.
    tally.forget()
    with dynamodb_calls() as self_calls:
        caller = tokenauth.authenticate(_bearer(access), "192.0.2.1")
    assert caller.user is not None and self_calls == ["TransactGetItems"]
    with dynamodb_calls() as refresh_calls:
        rotation.refresh(_bearer(body["tokens"]["refresh"]["value"]), "192.0.2.1")
    assert refresh_calls == ["TransactGetItems", "UpdateItem"]
    with dynamodb_calls() as admin_check:
        assert tokenauth.is_active_for_token(tokens.verify(access).claims)
    assert admin_check == ["TransactGetItems"]


def test_requests_per_ip_cost_one_addition_per_k_requests(tenant_id: str) -> None:
    """The amortised cost docs/auth.md states: with the default 300 per minute (k = 15),
    30 reads of one address make 30 reads and 2 counter additions."""
    access = _sign_in(tenant_id)["tokens"]["access"]["value"]
    if 60 - time.time() % 60 < 5:  # keep the 30 requests inside one window
        time.sleep(60 - time.time() % 60 + 0.1)
    tally.forget()
    with dynamodb_calls() as calls:
        for _ in range(30):
            tokenauth.authenticate(_bearer(access), "192.0.2.77")
    assert calls.count("TransactGetItems") == 30
    assert calls.count("UpdateItem") == 2 and len(calls) == 32


def test_reuse_ends_the_session_with_its_reason(tenant_id: str) -> None:
    body = _sign_in(tenant_id)
    first = body["tokens"]["refresh"]["value"]
    second = rotation.refresh(_bearer(first), "192.0.2.1")["tokens"]["refresh"]["value"]
    rotation.refresh(_bearer(second), "192.0.2.1")
    with pytest.raises(Unauthorized, match="Invalid token"):
        rotation.refresh(_bearer(first), "192.0.2.1")
    item = store.get(body["sessionId"])
    assert item is not None and item.endedReason == "refresh_reuse" and item.grace is None


def test_grace_expires(tenant_id: str) -> None:
    body = _sign_in(tenant_id)
    first = body["tokens"]["refresh"]["value"]
    rotation.refresh(_bearer(first), "192.0.2.1")
    item = store.get(body["sessionId"])
    assert item is not None
    item.update(actions=[store.SessionItem.rotatedAt.set(int(time.time()) - 31)])
    with pytest.raises(Unauthorized):
        rotation.refresh(_bearer(first), "192.0.2.1")
    assert store.get(body["sessionId"]).endedReason == "refresh_reuse"  # type: ignore[union-attr]


def test_a_password_changed_elsewhere_ends_the_session_at_refresh(tenant_id: str) -> None:
    body = _sign_in(tenant_id, "viewer@example.com")
    user = user_store.get_user("test", tenant_id, body["userId"])
    assert user is not None
    later = "2999-01-01T00:00:00.000Z"
    user.update(actions=[user_store.UserItem.passwordChangedAt.set(later)])
    try:
        with pytest.raises(Unauthorized):
            rotation.refresh(_bearer(body["tokens"]["refresh"]["value"]), "192.0.2.1")
        assert store.get(body["sessionId"]).endedReason == "password_change"  # type: ignore[union-attr]
    finally:
        user.update(actions=[user_store.UserItem.passwordChangedAt.set(user.createdAt)])


def test_log_out_accepts_an_expired_token_but_log_out_all_does_not(tenant_id: str) -> None:
    body = _sign_in(tenant_id)
    live = tokens.verify(body["tokens"]["access"]["value"]).claims
    expired = tokens.sign(
        tenant_id, "test", {**live, "iat": live["iat"] - 7200, "exp": live["iat"] - 3600}
    )
    with pytest.raises(Unauthorized):
        tokenauth.logout_all(_bearer(expired), "192.0.2.1")
    assert tokenauth.logout(_bearer(expired), "192.0.2.1")["message"] == "OK"
    assert store.get(body["sessionId"]).endedReason == "logout"  # type: ignore[union-attr]
    assert not tokenauth.is_active_for_token(live)


def test_a_locked_user_with_a_live_session_is_403(tenant_id: str) -> None:
    body = _sign_in(tenant_id, "unconfirmed@example.com")
    user = user_store.get_user("test", tenant_id, body["userId"])
    assert user is not None
    user.update(actions=[user_store.UserItem.locked.set(True)])
    access = body["tokens"]["access"]["value"]
    try:
        with pytest.raises(Forbidden, match="User is locked"):
            tokenauth.authenticate(_bearer(access), "192.0.2.1")
        assert not tokenauth.is_active_for_token(tokens.verify(access).claims)
        with pytest.raises(Unauthorized):
            rotation.refresh(_bearer(body["tokens"]["refresh"]["value"]), "192.0.2.1")
    finally:
        user.update(actions=[user_store.UserItem.locked.set(False)])


def test_active_check_compares_the_owner(tenant_id: str) -> None:
    body = _sign_in(tenant_id)
    live = tokens.verify(body["tokens"]["access"]["value"]).claims
    assert tokenauth.is_active_for_token(live)
    assert not tokenauth.is_active_for_token({**live, "userId": live["userId"] + 1})
    assert not tokenauth.is_active_for_token({**live, "tenantId": "othertnt"})
    assert not tokenauth.is_active_for_token({**live, "mode": "live"})
    assert not tokenauth.is_active_for_token({**live, "sessionId": str(uuid.uuid4())})
    assert not tokenauth.is_active_for_token({k: v for k, v in live.items() if k != "sessionId"})


def test_refresh_limit_lives_on_the_session(tenant_id: str) -> None:
    body = _sign_in(tenant_id)
    item = store.get(body["sessionId"])
    assert item is not None
    window = int(time.time()) // 60 * 60
    item.update(
        actions=[
            store.SessionItem.refreshWindow.set(window),
            store.SessionItem.refreshCount.set(60),
        ]
    )
    with pytest.raises(TooManyRequests):
        rotation.refresh(_bearer(body["tokens"]["refresh"]["value"]), "192.0.2.1")


def test_id_token_size_estimate_matches_a_signed_token(tenant_id: str) -> None:
    body = _sign_in(tenant_id)
    user = user_store.get_user("test", tenant_id, body["userId"])
    assert user is not None
    estimate = token_claims.id_token_size(user)
    actual = len(body["tokens"]["id"]["value"])
    assert abs(estimate - actual) <= 16


def test_session_json_hides_rotation_state(tenant_id: str) -> None:
    body = _sign_in(tenant_id)
    item = store.get(body["sessionId"])
    assert item is not None
    shown = listing.session_json(item, body["sessionId"])
    assert shown["isCurrent"] and shown["isActive"]
    assert not {"jtiDigest", "prevJtiDigest", "grace", "rot", "refreshCount"} & set(shown)


def test_sign_in_upgrades_an_outdated_hash_in_the_same_transaction(tenant_id: str) -> None:
    body = _sign_in(tenant_id, "unconfirmed@example.com")
    user = user_store.get_user("test", tenant_id, body["userId"])
    assert user is not None
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(
        SEED_PASSWORDS[tenant_id]
    )
    user.update(actions=[user_store.UserItem.passwordHash.set(weak)])
    assert passwords.needs_rehash(weak)
    req = _request(tenant_id)
    with dynamodb_calls() as calls:
        password.log_in(
            req, identifier="unconfirmed@example.com", password=SEED_PASSWORDS[tenant_id]
        )
    assert len(calls) == 3
    upgraded = user_store.get_user("test", tenant_id, body["userId"])
    assert upgraded is not None and upgraded.passwordHash != weak
    assert not passwords.needs_rehash(upgraded.passwordHash)
    assert passwords.verify(upgraded.passwordHash, SEED_PASSWORDS[tenant_id])


def test_a_session_older_than_the_password_is_refused(tenant_id: str) -> None:
    """Changing the password ends the other sessions; even if ending one failed, its
    access token stops working because the session predates the change."""
    body = _sign_in(tenant_id, "admin@example.com")
    access = body["tokens"]["access"]["value"]
    caller = tokenauth.authenticate(_bearer(access), "192.0.2.1")
    user = caller.user
    assert user is not None
    user_store.UserItem(user.pk, user.sk).update(
        actions=[user_store.UserItem.passwordChangedAt.set("2999-01-01T00:00:00.000Z")]
    )
    try:
        with pytest.raises(Unauthorized):
            tokenauth.authenticate(_bearer(access), "192.0.2.1")
    finally:
        user_store.UserItem(user.pk, user.sk).update(
            actions=[user_store.UserItem.passwordChangedAt.remove()]
        )
