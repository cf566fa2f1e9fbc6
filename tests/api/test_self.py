"""Read and update the signed-in user (api-client §9.1, §9.2) and access-token rules (§9)."""

from __future__ import annotations

import base64
import time

import pytest
from authkit import (
    bearer,
    claims,
    error,
    hs256,
    jwt_header,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
)
from jwt.algorithms import HMACAlgorithm


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"loginRedirectPath": "/home", "logoutRedirectPath": "/bye"},
        name="Self tests",
    )


def test_read_self_answers_the_user_object(client, tenant) -> None:
    created = sign_up(client, tenant, name="Robin", data={"a": 1})
    access = tokens(created)[0]
    response = client.get("/v0/self", headers=bearer(access))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["userId"] == created["userId"]
    assert body["userUuid"] == body["uuid"] == created["userUuid"]
    assert body["mode"] == "test" and body["tenantId"] == tenant
    assert body["name"] == "Robin" and body["data"] == {"a": 1}
    assert body["tenant"]["tenantId"] == tenant
    assert body["tenant"]["loginRedirectPath"] == "/home"
    assert body["tenant"]["logoutRedirectPath"] == "/bye"
    assert "passwordHash" not in body and "password" not in body
    assert "authentication" in body and "authorization" in body


def test_access_token_rules(client, tenant, workspace) -> None:
    created = sign_up(client, tenant)
    access, id_token, refresh = tokens(created)
    error(client.get("/v0/self"), 401, "Missing authentication")
    error(client.get("/v0/self", headers=bearer("garbage")), 401, "Unauthorized")
    error(client.get("/v0/self", headers={"Authorization": f"Basic {access}"}), 401, "Unauthorized")
    error(client.get("/v0/self", headers=bearer(refresh)), 401, "Unauthorized")
    error(client.get("/v0/self", headers=bearer(id_token)), 401, "Unauthorized")
    tampered = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    error(client.get("/v0/self", headers=bearer(tampered)), 401, "Unauthorized")
    # Header names are case-insensitive (the client spells it both ways).
    ok = client.get("/v0/self", headers={"authorization": f"Bearer {access}"})
    assert ok.status_code == 200
    assert claims(id_token)["sessionId"] == created["sessionId"]


def test_hs256_signed_with_the_public_key_pem_is_refused(client, tenant) -> None:
    """Algorithm confusion (RFC 8725 §2.1): the public key PEM, as the service serves it,
    used as the HMAC secret of an HS256 token that keeps the real kid and the claims of a
    live session. Only `alg` differs, and every token route refuses it."""
    access, _, refresh = tokens(sign_up(client, tenant))
    served = client.get(f"/v0/tenants/{tenant}/keys/jwt", params={"test": "true"})
    assert served.status_code == 200, served.text
    kid = jwt_header(access)["kid"]
    pem = next(k["publicKey"] for k in served.json()["results"] if k["kid"] == kid).encode()
    forged = hs256(jwt_header(access), claims(access), pem)
    # A verifier that trusted `alg` would accept it (PyJWT's own HMAC under the PEM).
    signing_input, signature = forged.rsplit(".", 1)
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    assert HMACAlgorithm(HMACAlgorithm.SHA256).verify(signing_input.encode(), pem, raw_signature)
    assert client.get("/v0/self", headers=bearer(access)).status_code == 200  # claims are good
    # The client routes, and the server API that takes access tokens too (api-server §4.4).
    for path in (
        "/v0/self",
        "/v0/auth/session",
        "/v0/auth/sessions",
        "/v0/auth/logout",
        "/v0/users",
    ):
        error(client.get(path, headers=bearer(forged)), 401)
    forged_refresh = hs256(jwt_header(refresh), claims(refresh), pem)
    error(client.get("/v0/auth/refresh", headers=bearer(forged_refresh)), 401)
    # Neither forgery ended the session: the real tokens still work.
    assert client.get("/v0/self", headers=bearer(access)).status_code == 200
    assert client.get("/v0/auth/refresh", headers=bearer(refresh)).status_code == 200


def test_a_locked_users_token_stops_working(client, tenant, workspace) -> None:
    created = sign_up(client, tenant)
    access = tokens(created)[0]
    locked = client.put(
        f"/v0/tenants/{tenant}/users/{created['userId']}",
        json={"locked": True},
        headers=bearer(workspace.key("test", "admin")),
    )
    assert locked.status_code == 200, locked.text
    # Locking ends the user's sessions (401); a session that outlived the lock would
    # still meet 403 `User is locked` (tests/unit/test_sessions.py).
    assert client.get("/v0/self", headers=bearer(access)).status_code in (401, 403)


def test_update_self_merges_data_and_refresh_carries_it(client, tenant) -> None:
    created = sign_up(client, tenant, data={"keep": 1, "drop": 2})
    access, _, refresh = tokens(created)
    username = f"me{time.time_ns()}"
    response = client.put(
        "/v0/self",
        json={
            "name": "New Name",
            "username": username,
            "image": "https://example.com/me.png",
            "data": {"drop": None, "add": {"nested": True}},
        },
        headers=bearer(access),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "New Name" and body["username"] == username
    assert body["data"] == {"keep": 1, "add": {"nested": True}}
    assert body["updatedAt"] >= created["updatedAt"]
    assert "tokens" not in body
    refreshed = client.get("/v0/auth/refresh", headers=bearer(refresh))
    assert refreshed.status_code == 200
    id_claims = claims(refreshed.json()["tokens"]["id"]["value"])
    assert id_claims["name"] == "New Name" and id_claims["data"]["add"] == {"nested": True}
    events = client.get("/_local/events", params={"detailType": "user.update"}).json()
    assert any(e["detail"]["record"].get("userUuid") == created["userUuid"] for e in events)


@pytest.mark.parametrize("field", ["email", "phoneNumber", "password", "userId", "locked", "foo"])
def test_fields_that_cannot_be_updated_here(client, tenant, field) -> None:
    access = tokens(sign_up(client, tenant))[0]
    response = client.put("/v0/self", json={field: "x"}, headers=bearer(access))
    error(response, 400, f'"{field}" cannot be updated here')


def test_update_self_errors(client, tenant) -> None:
    taken = f"taken{time.time_ns()}"
    sign_up(client, tenant, username=taken)
    access = tokens(sign_up(client, tenant))[0]
    headers = bearer(access)
    error(client.put("/v0/self", json={"username": taken}, headers=headers), 400, "Username exists")
    error(
        client.put("/v0/self", json={"data": {"x": "y" * 4000}}, headers=headers),
        400,
        "data is too large",
    )
    error(client.put("/v0/self", json={"name": "n" * 300}, headers=headers), 400)
    error(client.put("/v0/self", json={"image": "not a url"}, headers=headers), 400)
    error(client.put("/v0/self", json=[1], headers=headers), 400, '"body" must be an object')
    error(client.put("/v0/self", json={}, headers=headers), 400)
    error(client.put("/v0/self", json={"name": "x"}), 401, "Missing authentication")


def test_mfa_can_be_turned_on_but_not_off(client, tenant) -> None:
    access = tokens(sign_up(client, tenant, unique_email("mfa")))[0]
    on = client.put("/v0/self", json={"isMfaRequired": True}, headers=bearer(access))
    assert on.status_code == 200 and on.json()["isMfaRequired"] is True
    off = client.put("/v0/self", json={"isMfaRequired": False}, headers=bearer(access))
    error(off, 403, "isMfaRequired can only be turned off by an administrator")
