"""Link credentials against moto: digest-only storage, single use, bindings, expiry,
reset revocation, the redemption lock, and the URLs that carry them."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from portcullis.platform.errors import Unauthorized


@pytest.fixture
def user(aws: str) -> Any:
    from portcullis.tenants import service as tenants
    from portcullis.users import service as users

    tenant = tenants.create("test", "Links unit")
    return users.register("test", tenant, {"email": "links@example.com"})


def table_dump() -> str:
    from portcullis.platform import config

    items = boto3.client("dynamodb").scan(TableName=config.table_name())["Items"]
    return json.dumps(items)


def test_a_link_is_stored_as_a_digest_and_redeems_once(user: Any) -> None:
    from portcullis.credentials import links

    issued = links.issue(user, "login", 3600)
    assert issued.uuid == user.userUuid and issued.type == "login"
    assert issued.token not in table_dump()
    assert links.digest(issued.token) in table_dump()
    item = links.redeem("test", user.tenantId, user.userUuid, issued.token, links.LOGIN_LINK_TYPES)
    assert (item.linkType, int(item.userId)) == ("login", int(user.userId))
    with pytest.raises(Unauthorized, match="Invalid token"):
        links.redeem("test", user.tenantId, user.userUuid, issued.token, links.LOGIN_LINK_TYPES)


@pytest.mark.parametrize(
    "change",
    ["mode", "tenant", "uuid", "type", "token"],
)
def test_every_wrong_binding_gets_the_same_answer(user: Any, change: str) -> None:
    from portcullis.credentials import links

    issued = links.issue(user, "welcome", 3600)
    args = {
        "mode": "test",
        "tenant_id": user.tenantId,
        "user_uuid": user.userUuid,
        "token": issued.token,
        "allowed_types": set(links.LOGIN_LINK_TYPES),
    }
    wrong = {
        "mode": {"mode": "live"},
        "tenant": {"tenant_id": "zzzzzzzz"},
        "uuid": {"user_uuid": "00000000-0000-4000-8000-000000000000"},
        "type": {"allowed_types": set(links.RESET_LINK_TYPES)},
        "token": {"token": "00000000-0000-4000-8000-000000000000"},
    }[change]
    with pytest.raises(Unauthorized) as caught:
        links.redeem(**{**args, **wrong})
    assert caught.value.message == "Invalid token" and caught.value.status_code == 401
    # The real credential is untouched by the failed attempt.
    assert links.redeem(**args).linkType == "welcome"


def test_expired_links_are_invalid(user: Any) -> None:
    from portcullis.credentials import links

    token, item = links.new_link_item(user, "verify", 0, purpose={"email": "new@example.com"})
    from portcullis.store import links as store

    store.put_link(item)
    with pytest.raises(Unauthorized):
        links.redeem("test", user.tenantId, user.userUuid, token, {"verify"})


def test_purpose_travels_with_the_link(user: Any) -> None:
    from portcullis.credentials import links

    issued = links.issue(user, "verify", 600, purpose={"email": "new@example.com"})
    item = links.redeem("test", user.tenantId, user.userUuid, issued.token, {"verify"})
    assert item.purpose == {"email": "new@example.com"}


def test_issuing_a_reset_link_revokes_earlier_reset_links(user: Any) -> None:
    from portcullis.credentials import links

    first = links.issue(user, "reset", 3600)
    invite = links.issue(user, "invite", 3600)
    login = links.issue(user, "login", 3600)
    latest = links.issue(user, "reset", 3600)
    for stale in (first, invite):
        with pytest.raises(Unauthorized):
            links.redeem("test", user.tenantId, user.userUuid, stale.token, links.RESET_LINK_TYPES)
    assert links.redeem("test", user.tenantId, user.userUuid, latest.token, links.RESET_LINK_TYPES)
    assert links.redeem("test", user.tenantId, user.userUuid, login.token, {"login"})


def test_revoke_and_user_deletion_remove_pending_links(user: Any) -> None:
    from portcullis.credentials import links
    from portcullis.users import service as users

    issued = [links.issue(user, kind, 3600) for kind in ("login", "welcome")]
    assert links.revoke(user, {"login"}) == 1
    with pytest.raises(Unauthorized):
        links.redeem("test", user.tenantId, user.userUuid, issued[0].token, {"login"})
    users.delete(user)
    with pytest.raises(Unauthorized):
        links.redeem("test", user.tenantId, user.userUuid, issued[1].token, {"welcome"})


def test_failures_never_lock_the_user(user: Any) -> None:
    """Bad tokens naming a user (uuids are public) do not block that user's own link;
    failures are counted per IP by the caller (`auth.link.redeem`)."""
    from portcullis.credentials import links

    good = links.issue(user, "login", 3600)
    for _ in range(12):
        with pytest.raises(Unauthorized):
            links.redeem("test", user.tenantId, user.userUuid, "wrong", {"login"})
    assert links.redeem("test", user.tenantId, user.userUuid, good.token, {"login"})


def test_link_url_format() -> None:
    from portcullis.credentials import links

    url = links.link_url("https://app.example.com/", "/login", "u-1", "t-1", "welcome", "/next?a=1")
    assert (
        url
        == "https://app.example.com/login?uuid=u-1&token=t-1&type=welcome&redirect=%2Fnext%3Fa%3D1"
    )
    assert links.link_url("http://localhost:3000", "/reset", "u", "t", None) == (
        "http://localhost:3000/reset?uuid=u&token=t"
    )
    assert links.link_url("https://x.example", "/p?x=1", "u", "t", "login").endswith(
        "/p?x=1&uuid=u&token=t&type=login"
    )


def test_server_origin_is_the_primary_live_domain(aws: str) -> None:
    from portcullis.credentials import links
    from portcullis.tenancy import settings
    from portcullis.tenants import service as tenants

    root = tenants.create("test", "Origin root")
    tenants.create("live", "Origin root", tenant_id=root.tenantId)
    child = tenants.create("test", "Origin child", parent=root)
    assert links.server_origin(child) == "http://localhost:3000"
    settings.update(
        "live",
        root.tenantId,
        {"liveDomains": [{"domain": "app.example.com"}, {"domain": "other.example.com"}]},
    )
    assert links.server_origin(child) == "https://app.example.com"
    assert links.server_origin(root) == "https://app.example.com"


def test_default_lifetimes_and_requested_durations() -> None:
    from portcullis.credentials import links
    from portcullis.platform.errors import BadRequest

    assert links.seconds_for("login", None) == 3600
    assert links.seconds_for("welcome", None) == 3 * 86_400
    assert links.seconds_for("verify", None) == 3 * 86_400
    assert links.seconds_for("reset", None) == 3600
    assert links.seconds_for("reset", "2 days") == 2 * 86_400
    with pytest.raises(BadRequest):
        links.seconds_for("login", "2 weeks")


def test_index_queries_still_work_after_a_base_item_query(aws: str) -> None:
    """Regression: a connection first made for `Item` (tenant purge uses `Item.query`)
    must not be inherited by models with indexes."""
    from portcullis.store import links as store
    from portcullis.store.base import Item

    list(Item.query("NOTHING#here"))
    assert store.user_links("test", "abcdefgh", "00000000-0000-4000-8000-000000000000") == []
