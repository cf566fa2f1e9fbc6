"""The callers of the access tests (issue 8 items 2, 3): a small world of tenants, keys,
users and tokens, built once per worker over HTTP and shared by
`test_access_scope.py` and `test_authorization_matrix.py`.

Workspace W (the runtime's bootstrap workspace) with children C (grandchild G) and S,
a live-only child L, and a second workspace X (made by the operator command against
the runtime's AWS). Users carry a random `data.marker`, so any answer that shows a
user outside the caller's scope can be caught by searching for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from authkit import PASSWORD, bearer, log_in, tokens, unique_email

NEW_PASSWORD = "another-horse-battery-7"


@dataclass
class User:
    email: str
    uuid: str
    marker: str
    tenant_id: str
    token: str | None = None


@dataclass
class World:
    W: str
    C: str
    G: str
    S: str
    L: str
    X: str  # another workspace
    keys: dict[str, str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def new_user(
    http: httpx.Client,
    key: str,
    *,
    tenant_id: str | None = None,
    password: str | None = None,
    roles: list[str] | None = None,
) -> User:
    """A user (of the key's home tenant, or `tenant_id`) with a random data marker."""
    marker = f"marker-{uuid.uuid4().hex}"
    body: dict[str, Any] = {"email": unique_email("acc"), "data": {"marker": marker}}
    if password:
        body["password"] = password
    if roles:
        body["roles"] = roles
    path = f"/v0/tenants/{tenant_id}/users" if tenant_id else "/v0/users"
    created = ok(http.post(path, json=body, headers=bearer(key)))
    return User(body["email"], created["userUuid"], marker, created["tenantId"])


def sign_in(http: httpx.Client, user: User, password: str = PASSWORD) -> str:
    """The user's access token (test mode: the origin picks no live domain)."""
    response = log_in(http, user.tenant_id, user.email, password)
    assert response.status_code == 200, response.text
    user.token = tokens(response.json())[0]
    return user.token


def set_roles(http: httpx.Client, key: str, tenant_id: str, user: User, roles: list[str]) -> None:
    ok(
        http.put(
            f"/v0/tenants/{tenant_id}/users/{user.uuid}/roles",
            json={"roles": roles},
            headers=bearer(key),
        )
    )


def child_tenant(http: httpx.Client, key: str, parent: str | None = None, name: str = "T") -> str:
    path = f"/v0/tenants/{parent}/tenants" if parent else "/v0/tenants"
    return str(ok(http.post(path, json={"name": name}, headers=bearer(key)))["tenantId"])


def api_key(http: httpx.Client, key: str, tenant_id: str, key_type: str = "admin") -> str:
    body = {"type": key_type, "tenantId": tenant_id}
    return str(ok(http.post("/v0/keys", json=body, headers=bearer(key)))["key"])


def other_workspace(http: httpx.Client) -> tuple[str, dict[str, Any]]:
    """A second workspace, made by the operator command against the runtime's AWS."""
    environment = {**os.environ, **ok(http.get("/_local/environment"))}
    made = subprocess.run(
        [sys.executable, "-m", "portcullis.admin", "create-workspace", "--name", "O", "--json"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=120,
    )
    created = json.loads(made.stdout)
    return str(created["tenantId"]), created["keys"]


@pytest.fixture(scope="session")
def world(base_url: str, workspace: Any) -> World:
    """Everything the access tests address; built once per worker (a few argon2 hashes)."""
    wkey = workspace.key("test", "admin")
    with httpx.Client(base_url=base_url, timeout=60) as http:
        C = child_tenant(http, wkey, name="Child")
        S = child_tenant(http, wkey, name="Sibling")
        G = child_tenant(http, wkey, parent=C, name="Grandchild")
        L = child_tenant(http, workspace.key("live", "admin"), name="LiveOnly")
        other, o_keys = other_workspace(http)
        world = World(W=workspace.tenant_id, C=C, G=G, S=S, L=L, X=other)
        world.keys = {
            "workspace": wkey,
            "readonly": workspace.key("test", "readonly"),
            "child": api_key(http, wkey, C),
            "sibling": api_key(http, wkey, S),
            "other": o_keys["test"]["admin"],
            "live": workspace.key("live", "admin"),
            # Keys only ever named in bodies, as someone else's key.
            "w_spare": api_key(http, wkey, workspace.tenant_id, "readonly"),
            "o_spare": api_key(http, o_keys["test"]["admin"], other, "readonly"),
            "live_spare": api_key(http, workspace.key("live", "admin"), world.W, "readonly"),
        }
        users = world.users
        users["victim"] = new_user(http, wkey, roles=["admin"])  # a workspace admin of W
        users["invitee"] = new_user(http, wkey, roles=["admin"])  # only ever invited
        users["o_user"] = new_user(http, o_keys["test"]["admin"])
        users["o_invitee"] = new_user(http, o_keys["test"]["admin"])
        users["live_user"] = new_user(http, world.keys["live"])
        users["live_invitee"] = new_user(http, world.keys["live"])
        users["c_user"] = new_user(http, wkey, tenant_id=C)
        # Token callers: a child's admin, a demoted admin, an admin whose password an
        # administrator reset after the token was issued.
        child_admin = users["child_admin"] = new_user(http, wkey, password=PASSWORD)
        set_roles(http, wkey, C, child_admin, ["admin"])
        sign_in(http, child_admin)
        removed = users["removed"] = new_user(http, wkey, password=PASSWORD, roles=["admin"])
        sign_in(http, removed)
        ok(http.put(f"/v0/users/{removed.uuid}/roles", json={"roles": []}, headers=bearer(wkey)))
        reset = users["reset"] = new_user(http, wkey, password=PASSWORD, roles=["admin"])
        sign_in(http, reset)
        ok(
            http.put(
                f"/v0/users/{reset.uuid}", json={"password": NEW_PASSWORD}, headers=bearer(wkey)
            )
        )
    return world
