"""Invite user (§7.6): the user, the link credential, and the email captured from SES."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from test_users_support import (
    Tenant,
    assert_error,
    create_user,
    email,
    emails_to,
    events_for,
    new_tenant,
    unique,
    wait_for,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DURATION_MESSAGE = '"options.duration" must be between 10 seconds and 1 week'


@pytest.fixture
def tenant(api: Any, workspace: Any) -> Tenant:
    return new_tenant(api, workspace.keys["test"]["admin"])


@pytest.fixture
def live(api: Any, workspace: Any) -> Tenant:
    return new_tenant(api, workspace.keys["live"]["admin"], mode="live")


def link_parts(link: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


def workspace_name(api: Any, workspace: Any, mode: str) -> str:
    response = api(
        "GET", f"/v0/tenants/{workspace.tenant_id}", key=workspace.keys[mode]["readonly"]
    )
    return str(response.json()["name"])


def test_test_mode_invite_returns_the_link_and_sends_nothing(api: Any, tenant: Tenant) -> None:
    address = email("invitee")
    response = api(
        "POST",
        "/v0/users/invite",
        key=tenant.admin,
        json={"email": address, "name": "Invited Person", "data": {"source": "invite"}},
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["email"] == address and user["name"] == "Invited Person"
    assert user["data"] == {"source": "invite"}
    base, query = link_parts(user["link"])
    assert base == "http://localhost:3000/login"
    assert query["uuid"] == user["userUuid"]
    assert UUID.match(query["token"])
    assert query["type"] == "welcome"
    assert emails_to(api, address) == []
    assert events_for(api, "user.create", userUuid=user["userUuid"])
    read = api("GET", f"/v0/users/{user['userId']}", key=tenant.admin).json()
    assert "link" not in read and "token" not in str(read)


def test_reset_invitation_points_at_the_reset_path(api: Any, tenant: Tenant) -> None:
    response = api(
        "POST",
        f"/v0/tenants/{tenant.tenant_id}/users/invite",
        key=tenant.admin,
        json={"email": email(), "options": {"type": "reset", "duration": "2 days"}},
    )
    assert response.status_code == 200, response.text
    base, query = link_parts(response.json()["link"])
    assert base == "http://localhost:3000/reset"
    assert query["type"] == "invite"


def test_live_invite_sends_the_email_through_ses(api: Any, workspace: Any, live: Tenant) -> None:
    address = email("live")
    response = api(
        "POST", "/v0/users/invite", key=live.admin, json={"email": address, "name": "Liv"}
    )
    assert response.status_code == 200, response.text
    user = response.json()
    assert user["mode"] == "live"
    assert "link" not in user  # live mode never hands out the credential
    assert user["lastMessagedAt"] is not None
    sent = wait_for(lambda: emails_to(api, address))
    assert len(sent) == 1, sent
    message = sent[0]
    root = workspace_name(api, workspace, "live")
    assert message["subject"] == f"Your {root} invitation link"
    assert message["from"]
    links = re.findall(r"https?://\S+", message["text"])
    assert len(links) == 1
    base, query = link_parts(links[0])
    assert base == "http://localhost:3000/login"
    assert query["uuid"] == user["userUuid"]
    assert UUID.match(query["token"])
    assert query["type"] == "welcome"
    assert f"{live.name} ({root})" in message["text"]
    assert "Hi Liv," in message["text"]
    assert message["html"] and links[0].replace("&", "&amp;") in message["html"]
    assert "expires in 3 days" in message["text"]


def test_live_reset_invite_email_links_to_reset(api: Any, live: Tenant) -> None:
    address = email("reset")
    body = {"email": address, "options": {"type": "reset", "duration": "30 minutes"}}
    assert api("POST", "/v0/users/invite", key=live.admin, json=body).status_code == 200
    sent = wait_for(lambda: emails_to(api, address))
    assert len(sent) == 1
    base, query = link_parts(re.findall(r"https?://\S+", sent[0]["text"])[0])
    assert base == "http://localhost:3000/reset"
    assert query["type"] == "invite"
    assert "expires in 30 minutes" in sent[0]["text"]


def test_no_invite_email_creates_the_user_and_sends_nothing(
    api: Any, live: Tenant, tenant: Tenant
) -> None:
    address = email("quiet")
    body = {"email": address, "options": {"noInviteEmail": True}}
    response = api("POST", "/v0/users/invite", key=live.admin, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["lastMessagedAt"] is None
    test_mode = api("POST", "/v0/users/invite", key=tenant.admin, json=body)
    assert "link" not in test_mode.json()
    assert emails_to(api, address) == []


def test_reinviting_reuses_the_user_and_ignores_other_fields(api: Any, tenant: Tenant) -> None:
    existing = create_user(api, tenant.admin, name="Original")
    response = api(
        "POST",
        "/v0/users/invite",
        key=tenant.admin,
        json={"email": existing["email"].upper(), "name": "Ignored", "username": unique("ign")},
    )
    assert response.status_code == 200, response.text
    again = response.json()
    assert again["userId"] == existing["userId"]
    assert again["name"] == "Original"
    assert again["username"] == existing["username"]
    assert link_parts(again["link"])[1]["uuid"] == existing["userUuid"]
    listing = api("POST", "/v0/users/find", key=tenant.admin, json={}).json()
    assert listing["totalCount"] == 1


def test_live_reinvite_of_a_confirmed_user_sends_again(api: Any, live: Tenant) -> None:
    user = create_user(api, live.admin, isEmailConfirmed=True)
    assert (
        api("POST", "/v0/users/invite", key=live.admin, json={"email": user["email"]}).status_code
        == 200
    )
    sent = wait_for(lambda: emails_to(api, user["email"]))
    assert len(sent) == 1


def test_second_email_to_an_unconfirmed_address_within_a_day_is_skipped(
    api: Any, live: Tenant
) -> None:
    address = email("limited")
    first = api("POST", "/v0/users/invite", key=live.admin, json={"email": address})
    assert first.status_code == 200
    assert wait_for(lambda: emails_to(api, address))
    second = api("POST", "/v0/users/invite", key=live.admin, json={"email": address})
    assert second.status_code == 200, second.text  # the limit never fails the call
    assert second.json()["userId"] == first.json()["userId"]
    assert len(emails_to(api, address)) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, '"email" is required'),
        ({"email": "not-an-email"}, '"email" must be a valid email'),
        ({"email": "a@example.com", "options": {"duration": "9 seconds"}}, DURATION_MESSAGE),
        ({"email": "a@example.com", "options": {"duration": "8 days"}}, DURATION_MESSAGE),
        ({"email": "a@example.com", "options": {"duration": "1.5 hours"}}, DURATION_MESSAGE),
        ({"email": "a@example.com", "options": {"duration": 3600}}, DURATION_MESSAGE),
        (
            {"email": "a@example.com", "options": {"type": "login"}},
            '"options.type" must be one of [welcome, reset]',
        ),
        (
            {"email": "a@example.com", "options": {"sendNow": True}},
            '"options.sendNow" is not allowed',
        ),
        ({"email": "a@example.com", "password": "secret123"}, '"password" is not allowed'),
        ({"email": "a@example.com", "roles": ["admin"]}, '"roles" is not allowed'),
    ],
)
def test_invite_validation(api: Any, tenant: Tenant, body: dict[str, Any], message: str) -> None:
    assert_error(api("POST", "/v0/users/invite", key=tenant.admin, json=body), 400, message)
    assert api("POST", "/v0/users/find", key=tenant.admin, json={}).json()["totalCount"] == 0


def test_invite_with_a_taken_username_creates_nothing(api: Any, tenant: Tenant) -> None:
    taken = create_user(api, tenant.admin, username=unique("taken"))
    body = {"email": email(), "username": taken["username"]}
    assert_error(
        api("POST", "/v0/users/invite", key=tenant.admin, json=body), 400, "Username already exists"
    )
    assert api("POST", "/v0/users/find", key=tenant.admin, json={}).json()["totalCount"] == 1


def test_invite_needs_an_admin_credential(api: Any, tenant: Tenant) -> None:
    body = {"email": email()}
    assert_error(api("POST", "/v0/users/invite", json=body), 401, "Missing authentication")
    assert_error(api("POST", "/v0/users/invite", key=tenant.readonly, json=body), 403, "Forbidden")


def test_a_failed_invitation_does_not_use_up_the_email_limit(api: Any, live: Tenant) -> None:
    taken = create_user(api, live.admin, username=unique("busy"))
    address = email("retry")
    bad = {"email": address, "username": taken["username"]}
    assert_error(
        api("POST", "/v0/users/invite", key=live.admin, json=bad), 400, "Username already exists"
    )
    good = api("POST", "/v0/users/invite", key=live.admin, json={"email": address})
    assert good.status_code == 200, good.text
    assert len(wait_for(lambda: emails_to(api, address))) == 1
