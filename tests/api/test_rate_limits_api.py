"""Request-volume limits over HTTP: `requestsPerIp` on the client API, failed tokens per
IP (`authFailuresPerIp`), and the per-credential buckets of the server API with their
`X-RateLimit-*` headers (api-client §4, api-server §6).

Limits are set on fresh child tenants (nothing to restore) with hour-long windows, so
a window boundary cannot fall inside a test in practice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from authkit import bearer, error, log_in, new_tenant, sign_up, tokens

from infra.local.testing import loopback_address

CLIENT_LIMITED = "Too many requests, please try again later"
HOUR = 3600


@pytest.fixture
def neighbour(base_url: str, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A second client of the same test, from another loopback address."""
    address = loopback_address(request.node.nodeid + "#neighbour")
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=base_url, timeout=30, transport=transport) as http:
        yield http


def _admin(workspace) -> str:
    return workspace.key("test", "admin")


def _limited(base_url: str, workspace, **limits: int) -> str:
    """A child tenant whose named limits are `limit` per hour."""
    changed = {name: {"limit": value, "windowSeconds": HOUR} for name, value in limits.items()}
    return new_tenant(base_url, _admin(workspace), {"rateLimits": changed})


# --------------------------------------------------------------------- requestsPerIp


def test_requests_per_ip_answer_429_past_the_limit(client, neighbour, base_url, workspace) -> None:
    tenant = _limited(base_url, workspace, requestsPerIp=3)
    other_tenant = _limited(base_url, workspace, requestsPerIp=3)
    for _ in range(3):
        assert client.get(f"/v0/tenants/{tenant}/mode").status_code == 200
    limited = client.get(f"/v0/tenants/{tenant}/mode")
    body = error(limited, 429, CLIENT_LIMITED)
    assert body == {
        "statusCode": 429,
        "message": CLIENT_LIMITED,
        "error": {"type": "rate_limit_error"},
    }
    assert 0 < int(limited.headers["Retry-After"]) <= HOUR
    # Another address, or the same address at another tenant, is counted apart.
    assert neighbour.get(f"/v0/tenants/{tenant}/mode").status_code == 200
    assert client.get(f"/v0/tenants/{other_tenant}/mode").status_code == 200


def test_requests_per_ip_count_token_requests_in_the_tokens_tenant(
    client, neighbour, base_url, workspace
) -> None:
    tenant = _limited(base_url, workspace, requestsPerIp=4)
    # Sign-up is limited by `signupPerIp`, not by this limit.
    access = tokens(sign_up(client, tenant))[0]
    for _ in range(3):
        assert client.get("/v0/self", headers=bearer(access)).status_code == 200
    assert client.get(f"/v0/tenants/{tenant}/mode").status_code == 200
    error(client.get("/v0/self", headers=bearer(access)), 429, CLIENT_LIMITED)
    error(client.get("/v0/auth/sessions", headers=bearer(access)), 429, CLIENT_LIMITED)
    error(client.get(f"/v0/tenants/{tenant}/mode"), 429, CLIENT_LIMITED)
    # The same token from another address still works.
    assert neighbour.get("/v0/self", headers=bearer(access)).status_code == 200


# ----------------------------------------------------------------- authFailuresPerIp


def _clear_of_window_end(window_seconds: int, margin: float = 15.0) -> None:
    """Wait for the next fixed window if this one ends within `margin` seconds, so a
    default limit (whose window a test cannot lengthen) is not reset halfway."""
    left = window_seconds - time.time() % window_seconds
    if left < margin:
        time.sleep(left + 0.5)


def test_bad_tokens_at_self_turn_from_401_into_429(client, neighbour, base_url, workspace) -> None:
    """The default limit: 20 failed tokens per address per 5 minutes."""
    _clear_of_window_end(300)
    statuses = [
        client.get("/v0/self", headers=bearer("not.a.token")).status_code for _ in range(20)
    ]
    assert statuses == [401] * 20
    limited = client.get("/v0/self", headers=bearer("not.a.token"))
    error(limited, 429, CLIENT_LIMITED)
    assert 0 < int(limited.headers["Retry-After"]) <= 300
    # Every token endpoint shares the count...
    error(client.get("/v0/auth/refresh", headers=bearer("not.a.token")), 429, CLIENT_LIMITED)
    error(client.post("/v0/auth/logout", headers=bearer("not.a.token")), 429, CLIENT_LIMITED)
    # ...a missing token is not a failed one...
    error(client.get("/v0/self"), 401, "Missing authentication")
    # ...a valid token from this address waits for the window too (the limit is checked
    # before any credential is looked up, issue 8 item 9); other addresses are not
    # affected.
    tenant = new_tenant(base_url, _admin(workspace))
    access = tokens(sign_up(client, tenant))[0]
    waiting = client.get("/v0/self", headers=bearer(access))
    error(waiting, 429, CLIENT_LIMITED)
    traced = client.get("/_local/calls", params={"requestId": waiting.headers["x-amzn-RequestId"]})
    assert traced.json()["calls"] == []  # not even the token's session was read
    assert neighbour.get("/v0/self", headers=bearer(access)).status_code == 200
    error(neighbour.get("/v0/self", headers=bearer("not.a.token")), 401, "Unauthorized")


def test_a_revoked_session_counts_as_a_failure(client, base_url, workspace) -> None:
    tenant = new_tenant(
        base_url,
        _admin(workspace),
        {"rateLimits": {"authFailuresPerIp": {"limit": 2, "windowSeconds": HOUR}}},
    )
    access, _, refresh = tokens(sign_up(client, tenant))
    assert client.get("/v0/auth/logout", headers=bearer(access)).status_code == 200
    # The tenant's own threshold applies once the token's signature checked out.
    error(client.get("/v0/self", headers=bearer(access)), 401, "Unauthorized")
    error(client.get("/v0/auth/refresh", headers=bearer(refresh)), 401, "Invalid token")
    error(client.get("/v0/self", headers=bearer(access)), 429, CLIENT_LIMITED)


# --------------------------------------------------------- per-credential buckets


def _key_of(api, workspace, tenant: str) -> str:
    body = {"type": "admin", "tenantId": tenant}
    created = api("POST", "/v0/keys", key=_admin(workspace), json=body)
    assert created.status_code == 200, created.text
    return created.json()["key"]


def _bucket(response: httpx.Response) -> tuple[int, int, int]:
    headers = response.headers
    return (
        int(headers["X-RateLimit-Limit"]),
        int(headers["X-RateLimit-Remaining"]),
        int(headers["X-RateLimit-Reset"]),
    )


def test_every_server_response_describes_the_credential_bucket(api, workspace) -> None:
    sent = time.time()
    response = api("GET", f"/v0/tenants/{workspace.tenant_id}/settings", key=_admin(workspace))
    answered = time.time()
    assert response.status_code == 200
    limit, remaining, reset = _bucket(response)
    assert limit == 200 and 0 <= remaining < 200
    # The 2 s window that counted the request ends after it was sent (whole seconds) and no
    # later than a window past the answer; a slow answer on a loaded machine stays in bounds.
    assert sent - 1 <= reset <= answered + 3
    limits = response.json()["rateLimits"]
    assert limits["requestsPerCredential"] == {"limit": 200, "windowSeconds": 2}
    assert limits["searchesPerCredential"] == {"limit": 40, "windowSeconds": 2}
    # Errors after authentication carry them too; a failed credential has no bucket.
    missing = api("GET", f"/v0/tenants/{workspace.tenant_id}/users/999999", key=_admin(workspace))
    assert missing.status_code == 404 and "X-RateLimit-Limit" in missing.headers
    assert "X-RateLimit-Limit" not in api("GET", "/v0/keys/admin", key="uf_nope").headers


def test_a_credential_past_its_bucket_gets_429_with_the_headers(api, base_url, workspace) -> None:
    tenant = _limited(base_url, workspace, requestsPerCredential=4)
    key = _key_of(api, workspace, tenant)
    seen = [_bucket(api("GET", f"/v0/tenants/{tenant}", key=key)) for _ in range(4)]
    assert [remaining for _, remaining, _ in seen] == [3, 2, 1, 0]
    assert {limit for limit, _, _ in seen} == {4}
    assert len({reset for _, _, reset in seen}) == 1 and seen[0][2] > time.time()
    limited = api("GET", f"/v0/tenants/{tenant}", key=key)
    body = error(limited, 429, "Too many requests")
    assert body["error"] == {"type": "rate_limit_error"}
    assert _bucket(limited) == (4, 0, seen[0][2])
    assert 0 < int(limited.headers["Retry-After"]) <= HOUR
    # Another credential of the same tenant has a bucket of its own.
    other = _key_of(api, workspace, tenant)
    assert _bucket(api("GET", f"/v0/tenants/{tenant}", key=other))[:2] == (4, 3)


def test_searches_have_a_bucket_of_their_own(api, base_url, workspace) -> None:
    tenant = _limited(base_url, workspace, searchesPerCredential=2)
    key = _key_of(api, workspace, tenant)
    path = f"/v0/tenants/{tenant}/users/find"
    first, second = (api("POST", path, key=key, json={}) for _ in range(2))
    assert first.status_code == 200, first.text
    assert _bucket(first)[:2] == (2, 1) and _bucket(second)[:2] == (2, 0)
    limited = api("POST", path, key=key, json={})
    error(limited, 429, "Too many requests")
    assert _bucket(limited)[:2] == (2, 0)
    # Other requests of the credential still pass (their own, roomier bucket).
    listed = api("GET", f"/v0/tenants/{tenant}/users", key=key)
    assert listed.status_code == 200 and _bucket(listed)[0] == 200


def test_verify_key_keeps_its_own_limit(api, base_url, workspace) -> None:
    tenant = _limited(base_url, workspace, verifyKeyPerCredential=1)
    key = _key_of(api, workspace, tenant)
    readonly = api("POST", "/v0/keys", key=key, json={"type": "readonly"}).json()["key"]
    first = api("POST", "/v0/keys/verify", key=key, json={"key": readonly})
    assert first.status_code == 200, first.text
    limited = api("POST", "/v0/keys/verify", key=key, json={"key": readonly})
    error(limited, 429, "Too many requests")
    # The credential's request bucket is still reported (and not the one refusing).
    assert _bucket(limited)[0] == 200


def test_admin_access_tokens_are_counted_per_session(client, api, base_url, workspace) -> None:
    tenant = _limited(base_url, workspace, requestsPerCredential=2)
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    user_id = sign_up(client, tenant, email)["userId"]
    # The tenant's own key gives its user the admin role there.
    key = _key_of(api, workspace, tenant)
    roles = api("PUT", f"/v0/users/{user_id}/roles", key=key, json={"roles": ["admin"]})
    assert roles.status_code == 200, roles.text
    signed_in = log_in(client, tenant, email)
    assert signed_in.status_code == 200, signed_in.text
    access = tokens(signed_in.json())[0]
    answers = [api("GET", f"/v0/tenants/{tenant}", key=access) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [_bucket(a)[1] for a in answers] == [1, 0, 0]
    # A new sign-in is a new session, with a bucket of its own.
    again = tokens(log_in(client, tenant, email).json())[0]
    assert api("GET", f"/v0/tenants/{tenant}", key=again).status_code == 200
