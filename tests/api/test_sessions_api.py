"""Sessions: refresh rotation (api-client §13, concepts §2.5), log out (§10), the user's
own sessions (§9.6–9.7) and the administrators' view (api-server §7.9–7.10)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from authkit import (
    bearer,
    claims,
    error,
    log_in,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
)


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(
        base_url, workspace.key("test", "admin"), {"logoutRedirectPath": "/signed-out"}, name="S"
    )


def _refresh(client, token: str):
    return client.get("/v0/auth/refresh", headers=bearer(token))


# ------------------------------------------------------------------------------ refresh


def test_refresh_rotates_and_answers_exactly_200(client, tenant) -> None:
    created = sign_up(client, tenant)
    _, _, refresh = tokens(created)
    response = _refresh(client, refresh)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "mode", "sessionId", "tokens"}
    assert body["message"] == "OK" and body["sessionId"] == created["sessionId"]
    new_access, _, new_refresh = tokens(body)
    assert new_refresh != refresh
    before, after = claims(refresh), claims(new_refresh)
    assert after["rot"] == before["rot"] + 1 and after["jti"] != before["jti"]
    assert after["exp"] == before["exp"]  # the session's absolute end does not move
    assert claims(new_access)["sessionId"] == created["sessionId"]
    assert body["tokens"]["refresh"]["cookieOptions"]["sameSite"] == "Strict"
    assert client.get("/v0/self", headers=bearer(new_access)).status_code == 200


def test_previous_token_within_grace_returns_the_same_pair(client, tenant) -> None:
    _, _, first = tokens(sign_up(client, tenant))
    rotated = _refresh(client, first)
    again = _refresh(client, first)
    assert again.status_code == 200
    assert again.json() == rotated.json()


def test_parallel_refreshes_all_get_one_pair(base_url, tenant) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as setup:
        _, _, refresh = tokens(sign_up(setup, tenant))

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            return http.get("/v0/auth/refresh", headers=bearer(refresh))

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(one, range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.json()["tokens"]["refresh"]["value"] for a in answers}) == 1


def test_an_older_token_revokes_the_whole_session(client, tenant) -> None:
    created = sign_up(client, tenant)
    access, _, first = tokens(created)
    second = tokens(_refresh(client, first).json())[2]
    third_access, _, third = tokens(_refresh(client, second).json())
    # `first` is two rotations old: only a thief can still hold it.
    error(_refresh(client, first), 401, "Invalid token")
    error(_refresh(client, third), 401, "Invalid token")
    error(client.get("/v0/self", headers=bearer(third_access)), 401)
    error(client.get("/v0/self", headers=bearer(access)), 401)


def test_previous_token_after_the_grace_window_is_reuse(client, tenant) -> None:
    _, _, first = tokens(sign_up(client, tenant))
    second = tokens(_refresh(client, first).json())[2]
    time.sleep(31)
    error(_refresh(client, first), 401, "Invalid token")
    error(_refresh(client, second), 401, "Invalid token")


def test_refresh_rejects_other_credentials(client, tenant) -> None:
    access, id_token, _ = tokens(sign_up(client, tenant))
    error(client.get("/v0/auth/refresh"), 401, "Missing authentication")
    error(_refresh(client, "undefined"), 401, "Invalid token")
    error(_refresh(client, access), 401, "Invalid token")
    error(_refresh(client, id_token), 401, "Invalid token")


def test_refresh_of_a_locked_user_fails(client, tenant, workspace) -> None:
    created = sign_up(client, tenant)
    client.put(
        f"/v0/tenants/{tenant}/users/{created['userId']}",
        json={"locked": True},
        headers=bearer(workspace.key("test", "admin")),
    )
    error(_refresh(client, tokens(created)[2]), 401, "Invalid token")


def test_refreshes_per_session_are_limited(client, base_url, workspace) -> None:
    limited = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"rateLimits": {"refreshPerSession": {"limit": 2, "windowSeconds": 3600}}},
    )
    refresh = tokens(sign_up(client, limited))[2]
    for _ in range(2):
        refresh = tokens(_refresh(client, refresh).json())[2]
    limited_answer = _refresh(client, refresh)
    error(limited_answer, 429, "Too many requests, please try again later")
    assert int(limited_answer.headers["Retry-After"]) > 0


def test_lifetimes_come_from_tenant_settings(client, base_url, workspace) -> None:
    short = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"accessTokenDuration": 3600, "refreshTokenDuration": 86_400},
    )
    body = sign_up(client, short)
    access, _, refresh = tokens(body)
    assert claims(access)["exp"] - claims(access)["iat"] == 3600
    assert claims(refresh)["exp"] - claims(refresh)["iat"] == 86_400
    assert body["tokens"]["access"]["cookieOptions"]["expires"] == pytest.approx(1 / 24, abs=1e-4)
    assert body["tokens"]["refresh"]["cookieOptions"]["expires"] == 1


# ------------------------------------------------------------------------------ log out


def test_log_out_stops_access_and_refresh_tokens(client, tenant) -> None:
    access, _, refresh = tokens(sign_up(client, tenant))
    response = client.get("/v0/auth/logout", headers=bearer(access))
    assert response.status_code == 200
    assert response.json() == {"message": "OK", "redirectTo": "/signed-out"}
    error(client.get("/v0/self", headers=bearer(access)), 401, "Unauthorized")
    error(_refresh(client, refresh), 401, "Invalid token")
    again = client.post("/v0/auth/logout", headers=bearer(access))
    assert again.status_code == 200


def test_log_out_with_the_refresh_token(client, tenant) -> None:
    access, _, refresh = tokens(sign_up(client, tenant))
    assert client.post("/v0/auth/logout", headers=bearer(refresh)).status_code == 200
    error(client.get("/v0/self", headers=bearer(access)), 401)


def test_log_out_needs_a_valid_token(client) -> None:
    error(client.get("/v0/auth/logout"), 401, "Missing authentication")
    error(client.get("/v0/auth/logout", headers=bearer("nope")), 401, "Unauthorized")


def test_log_out_of_all_sessions(client, tenant) -> None:
    email = unique_email("everywhere")
    first = tokens(sign_up(client, tenant, email))
    second = tokens(log_in(client, tenant, email).json())
    third = tokens(log_in(client, tenant, email).json())
    response = client.get("/v0/auth/logout/all", headers=bearer(second[0]))
    assert response.status_code == 200
    assert response.json() == {"message": "OK", "redirectTo": "/signed-out", "count": 3}
    for access, _, refresh in (first, second, third):
        error(client.get("/v0/self", headers=bearer(access)), 401)
        error(_refresh(client, refresh), 401)
    error(client.post("/v0/auth/logout/all", headers=bearer(third[0])), 401)


def test_log_out_of_all_only_touches_that_user(client, tenant) -> None:
    mine = tokens(sign_up(client, tenant))
    theirs = tokens(sign_up(client, tenant))
    response = client.post("/v0/auth/logout/all", headers=bearer(mine[2]))
    assert response.status_code == 200 and response.json()["count"] == 1
    assert client.get("/v0/self", headers=bearer(theirs[0])).status_code == 200


# --------------------------------------------------------------------- own sessions


def test_read_current_session(client, tenant) -> None:
    created = client.post(
        f"/v0/tenants/{tenant}/auth/create",
        json={"email": unique_email(), "password": "session-pass-123"},
        headers={"User-Agent": "Portcullis-Test/1.0"},
    ).json()
    response = client.get("/v0/auth/session", headers=bearer(tokens(created)[0]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sessionId"] == created["sessionId"]
    assert body["isCurrent"] is True and body["isActive"] is True
    assert body["userId"] == created["userId"] and body["tenantId"] == tenant
    assert body["userAgent"] == "Portcullis-Test/1.0"
    assert body["ipAddress"]
    assert body["authentication"] == {
        "firstFactor": {"strategy": "password", "channel": "email"},
        "secondFactor": None,
    }
    assert body["revokedAt"] is None and body["endedAt"] is None
    for field in ("createdAt", "lastActiveAt", "expiresAt"):
        assert body[field].endswith("Z")
    assert not {"jtiDigest", "grace", "prevJtiDigest", "rot"} & set(body)


def test_list_own_sessions(client, tenant) -> None:
    email = unique_email("mine")
    first = sign_up(client, tenant, email)
    second = log_in(client, tenant, email).json()
    ended = log_in(client, tenant, email).json()
    client.get("/v0/auth/logout", headers=bearer(tokens(ended)[0]))
    response = client.get("/v0/auth/sessions", headers=bearer(tokens(second)[0]))
    assert response.status_code == 200
    results = response.json()["results"]
    assert {s["sessionId"] for s in results} == {first["sessionId"], second["sessionId"]}
    assert [s["isCurrent"] for s in results if s["sessionId"] == second["sessionId"]] == [True]
    error(client.get("/v0/auth/sessions"), 401, "Missing authentication")


# ---------------------------------------------------------------------- administrators


def test_admin_reads_and_ends_a_users_sessions(client, tenant, workspace) -> None:
    email = unique_email("admin-view")
    created = sign_up(client, tenant, email)
    other = log_in(client, tenant, email).json()
    path = f"/v0/tenants/{tenant}/users/{created['userId']}/sessions"
    admin, readonly = workspace.key("test", "admin"), workspace.key("test", "readonly")
    listed = client.get(path, headers=bearer(readonly))
    assert listed.status_code == 200, listed.text
    assert listed.json()["totalCount"] == 2 and listed.json()["totalPages"] == 1
    assert all(s["isCurrent"] is False for s in listed.json()["results"])
    error(client.delete(path, headers=bearer(readonly)), 403)
    single = client.delete(f"{path}/{created['sessionId']}", headers=bearer(admin))
    assert single.status_code == 200
    assert single.json()["result"] == {
        "userId": created["userId"],
        "endedCount": 1,
        "sessionIds": [created["sessionId"]],
    }
    error(client.get("/v0/self", headers=bearer(tokens(created)[0])), 401)
    assert client.get("/v0/self", headers=bearer(tokens(other)[0])).status_code == 200
    ended = client.delete(path, headers=bearer(admin))
    assert ended.json()["result"]["endedCount"] == 1
    error(client.get("/v0/self", headers=bearer(tokens(other)[0])), 401)
    assert client.get(path, headers=bearer(admin)).json()["totalCount"] == 0
    history = client.get(path, params={"active": "false"}, headers=bearer(admin)).json()
    assert history["totalCount"] == 2
    assert {s["endedAt"] is not None for s in history["results"]} == {True}
    again = client.delete(path, headers=bearer(admin))
    assert again.status_code == 200 and again.json()["result"]["endedCount"] == 0


def test_admin_session_errors(client, tenant, workspace) -> None:
    created = sign_up(client, tenant)
    admin = bearer(workspace.key("test", "admin"))
    base = f"/v0/tenants/{tenant}/users"
    error(client.get(f"{base}/999999/sessions", headers=admin), 404)
    error(client.delete(f"{base}/{created['userId']}/sessions/not-a-session", headers=admin), 404)
    error(client.get(f"{base}/{created['userId']}/sessions"), 401)
    error(
        client.get(
            f"{base}/{created['userId']}/sessions", params={"active": "maybe"}, headers=admin
        ),
        400,
    )
    # The other mode's key sees nothing of this test-mode tenant.
    error(
        client.get(
            f"{base}/{created['userId']}/sessions", headers=bearer(workspace.key("live", "admin"))
        ),
        403,
    )


def test_account_level_alias_and_admin_tokens(client, workspace) -> None:
    signed_in = log_in(
        client, workspace.tenant_id, "admin@example.com", workspace.seed_password
    ).json()
    admin_access = tokens(signed_in)[0]
    user_id = signed_in["userId"]
    listed = client.get(f"/v0/users/{user_id}/sessions", headers=bearer(admin_access))
    assert listed.status_code == 200, listed.text
    assert signed_in["sessionId"] in {s["sessionId"] for s in listed.json()["results"]}
    # Once its session ends, an admin's access token is no API credential either.
    client.get("/v0/auth/logout", headers=bearer(admin_access))
    error(client.get(f"/v0/users/{user_id}/sessions", headers=bearer(admin_access)), 401)
    by_uuid = client.get(
        f"/v0/users/{signed_in['userUuid']}/sessions",
        headers=bearer(workspace.key("test", "admin")),
    )
    assert by_uuid.status_code == 200
