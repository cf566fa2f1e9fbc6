"""Issue 8 items 2, 3 and 9 over HTTP: a caller scoped to a child tenant reaches only
its subtree's users, token rights come from the stored user at request time, and an
address over the failure limit costs no DynamoDB read.

The shared world (tenants W ⊃ C ⊃ G, S; users with data markers; token callers) is
built once per worker by `accesskit.world`.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import httpx
import pytest
from accesskit import (
    NEW_PASSWORD,
    World,
    child_tenant,
    new_user,
    ok,
    set_roles,
    sign_in,
    world,
)
from authkit import PASSWORD, bearer, error, unique_email

__all__ = ["world"]  # the fixture, imported for pytest


def _forged_token(tenant_id: str) -> str:
    """A well-formed RS256 JWT naming `tenant_id`, signed by nobody."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    header = part({"alg": "RS256", "typ": "JWT", "kid": secrets.token_hex(8)})
    body = part({"tenantId": tenant_id, "mode": "test", "userId": 1, "sessionId": "x"})
    return f"{header}.{body}.{secrets.token_urlsafe(32)}"


def _random_tenant() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


# ----------------------------------------------------------------- item 2: child scope


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_child_admin_cannot_set_the_roles_of_a_workspace_user(
    client: httpx.Client, world: World, method: str
) -> None:
    child_admin = world.users["child_admin"].token
    victim = new_user(client, world.keys["workspace"], roles=["admin"])
    for path in (
        f"/v0/tenants/{world.C}/users/{victim.uuid}/roles",
        f"/v0/users/{victim.uuid}/roles",  # account level: the token's home is C
    ):
        answer = client.request(method, path, json={"roles": []}, headers=bearer(child_admin))
        error(answer, 404, "User not found")
        assert victim.marker not in answer.text
    # The same answer as for a user that does not exist (no enumeration).
    missing = client.put(
        f"/v0/tenants/{world.C}/users/00000000-0000-4000-8000-000000000000/roles",
        json={"roles": []},
        headers=bearer(child_admin),
    )
    error(missing, 404, "User not found")
    held = ok(client.get(f"/v0/users/{victim.uuid}", headers=bearer(world.keys["workspace"])))
    assert held["authorization"][world.W]["roles"] == ["admin"]
    assert world.C not in held["authorization"]


def test_child_admin_invitation_of_a_workspace_user_carries_no_link(
    client: httpx.Client, world: World
) -> None:
    child_admin = world.users["child_admin"].token
    victim = new_user(client, world.keys["workspace"], roles=["admin"])
    body = {"email": victim.email, "roles": ["member"], "options": {"type": "reset"}}
    for path in (f"/v0/tenants/{world.C}/roles/invite", "/v0/roles/invite"):
        answer = ok(client.post(path, json=body, headers=bearer(child_admin)))
        assert "link" not in answer
        assert answer["userUuid"] == victim.uuid
        assert set(answer["authorization"]) == {world.C}  # never the workspace admin role
    # A new address is created by the call itself: its link is the caller's to hand out.
    fresh = ok(
        client.post(
            f"/v0/tenants/{world.C}/roles/invite",
            json={"email": unique_email("fresh"), "roles": ["member"]},
            headers=bearer(child_admin),
        )
    )
    assert fresh["link"].startswith("http")
    assert fresh["tenantId"] == world.W and set(fresh["authorization"]) == {world.C}


def test_child_admin_sees_only_the_roles_inside_its_subtree(
    client: httpx.Client, world: World
) -> None:
    wkey, child_admin = world.keys["workspace"], world.users["child_admin"].token
    member = new_user(client, wkey, roles=["member"])
    set_roles(client, wkey, world.G, member, ["member"])
    answer = ok(
        client.put(
            f"/v0/tenants/{world.C}/users/{member.uuid}/roles",
            json={"roles": ["admin"]},
            headers=bearer(child_admin),
        )
    )
    assert set(answer["authorization"]) == {world.C, world.G}
    full = ok(client.get(f"/v0/users/{member.uuid}", headers=bearer(wkey)))
    assert set(full["authorization"]) == {world.W, world.C, world.G}


def test_child_admin_token_acts_on_its_own_tenant_at_account_level(
    client: httpx.Client, world: World
) -> None:
    """api-server §4.5: a token's home is where its user holds the qualifying role."""
    child_admin = world.users["child_admin"].token
    listed = ok(client.get("/v0/users", headers=bearer(child_admin)))
    uuids = {u["userUuid"] for u in listed["results"]}
    assert world.users["c_user"].uuid in uuids
    assert world.users["victim"].uuid not in uuids
    made = ok(client.post("/v0/keys", json={"type": "readonly"}, headers=bearer(child_admin)))
    assert made["tenantId"] == world.C
    error(client.get(f"/v0/tenants/{world.W}/users", headers=bearer(child_admin)), 403)
    error(client.get(f"/v0/tenants/{world.S}/users", headers=bearer(child_admin)), 403)


def test_child_admin_cannot_delete_the_tenant_it_administers(
    client: httpx.Client, world: World
) -> None:
    wkey = world.keys["workspace"]
    tenant = child_tenant(client, wkey, name="Own")
    admin = new_user(client, wkey, password=PASSWORD)
    set_roles(client, wkey, tenant, admin, ["admin"])
    token = sign_in(client, admin)
    error(client.delete(f"/v0/tenants/{tenant}", headers=bearer(token)), 400)
    assert ok(client.get(f"/v0/tenants/{tenant}", headers=bearer(wkey)))["tenantId"] == tenant
    below = child_tenant(client, wkey, parent=tenant, name="Below")
    ok(client.delete(f"/v0/tenants/{below}", headers=bearer(token)))


# ----------------------------------------------------------------- item 3: stored rights


def test_a_demoted_admin_loses_admin_rights_at_once(client: httpx.Client, world: World) -> None:
    wkey = world.keys["workspace"]
    admin = new_user(client, wkey, password=PASSWORD, roles=["admin"])
    token = sign_in(client, admin)
    ok(client.get("/v0/users", headers=bearer(token)))
    ok(client.put(f"/v0/users/{admin.uuid}/roles", json={"roles": []}, headers=bearer(wkey)))
    error(client.get("/v0/users", headers=bearer(token)), 403)
    error(client.post("/v0/keys", json={"type": "admin"}, headers=bearer(token)), 403)
    error(client.get(f"/v0/tenants/{world.W}/keys/admin", headers=bearer(token)), 403)


def test_a_token_from_before_a_password_reset_is_refused_everywhere(
    client: httpx.Client, world: World
) -> None:
    wkey = world.keys["workspace"]
    admin = new_user(client, wkey, password=PASSWORD, roles=["admin"])
    token = sign_in(client, admin)
    ok(client.post("/v0/keys", json={"type": "readonly"}, headers=bearer(token)))
    ok(client.get("/v0/auth/session", headers=bearer(token)))
    ok(client.put(f"/v0/users/{admin.uuid}", json={"password": NEW_PASSWORD}, headers=bearer(wkey)))
    error(client.post("/v0/keys", json={"type": "admin"}, headers=bearer(token)), 401)
    error(client.get("/v0/users", headers=bearer(token)), 401)
    for path in ("/v0/auth/session", "/v0/auth/sessions", "/v0/self"):
        error(client.get(path, headers=bearer(token)), 401)
    # The new password signs in and its token works.
    fresh = sign_in(client, admin, NEW_PASSWORD)
    ok(client.get("/v0/users", headers=bearer(fresh)))


# ----------------------------------------------------------------- item 9: cost before limit


def _aws_calls(client: httpx.Client, response: httpx.Response) -> list[str]:
    """The AWS calls one request made, by its request id (infra/local/calltrace.py)."""
    request_id = response.headers["x-amzn-RequestId"]
    return list(ok(client.get("/_local/calls", params={"requestId": request_id}))["calls"])


@pytest.mark.parametrize("path", ["/v0/users", "/v0/self"])
def test_an_address_over_the_failure_limit_costs_no_dynamodb_read(base_url: str, path: str) -> None:
    # An address of its own, so no other test shares its failure counter.
    octets = (200 + (path == "/v0/self"), secrets.randbelow(250), secrets.randbelow(250) + 1)
    address = "127.{}.{}.{}".format(*octets)
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=base_url, timeout=30, transport=transport) as http:
        # Over the limit (20 a window by default): at most 45 tries, in case a fixed
        # window ends half-way.
        answers: list[httpx.Response] = []
        while len(answers) < 45 and 429 not in [a.status_code for a in answers[-1:]]:
            answer = http.get(path, headers=bearer(_forged_token(_random_tenant())))
            answers.append(answer)
        statuses = [a.status_code for a in answers]
        assert statuses[0] == 401 and statuses[-1] == 429, statuses
        # Under the limit, a made-up tenant costs a read of its key set (the tracer sees it).
        assert "dynamodb:Query" in _aws_calls(http, answers[0])
        for _ in range(10):
            answer = http.get(path, headers=bearer(_forged_token(_random_tenant())))
            assert answer.status_code == 429
            # Before the fix each made-up tenant cost a key-set Query.
            assert _aws_calls(http, answer) == []
