"""Shared helpers of the client-auth API tests (test_auth_*, test_self*, test_sessions*).

Each test module that needs a tenant of its own creates one here: settings changes
(rate limits, live domains) then never leak into other tests, and a tenant that no
request has touched yet is never served from a function's short settings cache.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx

PASSWORD = "correct-horse-battery-9"
# The seed users' password is random per workspace: `workspace.seed_password`.
# Every limit roomy except the ones a test sets on purpose: all tests of one worker run
# from 127.0.0.1, so the per-IP defaults (20 sign-ups an hour) would trip.
ROOMY = {"limit": 100_000, "windowSeconds": 60}
ROOMY_LIMITS = {
    name: ROOMY
    for name in (
        "signupPerIp",
        "sendPerIp",
        "sendPerTarget",
        "sendIntervalPerTarget",
        "attemptsPerAccount",
        "requestsPerIp",
        "refreshPerSession",
    )
}


# Every first factor the client endpoints serve; the default (docs/settings.md) leaves
# SMS codes off, and the tests of those endpoints need them on.
ALL_FIRST_FACTORS = [
    {"channel": "email", "strategy": "password"},
    {"channel": "email", "strategy": "link"},
    {"channel": "email", "strategy": "verificationCode"},
    {"channel": "sms", "strategy": "verificationCode"},
]


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def unique_phone() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def claims(token: str) -> dict[str, Any]:
    """A JWT's payload, decoded the way the client library does (no verification)."""
    return _segment(token, 1)


def jwt_header(token: str) -> dict[str, Any]:
    return _segment(token, 0)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    """An HS256 JWT built by hand (PyJWT refuses a PEM as an HMAC key): the algorithm
    confusion attack signs with the tenant's public key PEM as the secret."""
    header = {**header, "alg": "HS256"}
    signing_input = (
        f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(mac)}"


# Parents already given the roomy limits, so that their children may have them too.
_ROOMY_PARENTS: set[tuple[str, str, str]] = set()


def _roomy_parent(http: httpx.Client, parent: dict[str, Any] | None, admin_key: str) -> None:
    """A child's limits never exceed its parent's (docs/settings.md), so the parent (the
    workspace, whose admin may set any limit) gets the roomy limits first, once per mode
    (settings are per mode; the key says which)."""
    done = (str(http.base_url), parent["tenantId"] if parent else "", admin_key)
    if parent is None or done in _ROOMY_PARENTS:
        return
    raised = http.put(
        f"/v0/tenants/{parent['tenantId']}/settings",
        json={"rateLimits": ROOMY_LIMITS},
        headers=bearer(admin_key),
    )
    assert raised.status_code == 200, raised.text
    _ROOMY_PARENTS.add(done)


def new_tenant(
    base_url: str, admin_key: str, settings: dict[str, Any] | None = None, name: str = "Auth"
) -> str:
    """A child tenant of the workspace in the key's mode, with roomy limits (raised on
    the workspace first) and every first factor enabled, plus `settings`."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        created = http.post("/v0/tenants", json={"name": name}, headers=bearer(admin_key))
        assert created.status_code == 200, created.text
        tenant_id = created.json()["tenantId"]
        _roomy_parent(http, created.json()["parent"], admin_key)
        wanted: dict[str, Any] = {
            "rateLimits": dict(ROOMY_LIMITS),
            "authentication": {"firstFactors": ALL_FIRST_FACTORS},
        }
        for key, value in (settings or {}).items():
            if key == "rateLimits":
                wanted["rateLimits"].update(value)
            else:
                wanted[key] = value
        updated = http.put(
            f"/v0/tenants/{tenant_id}/settings", json=wanted, headers=bearer(admin_key)
        )
        assert updated.status_code == 200, updated.text
    return tenant_id


def sign_up(
    client: httpx.Client,
    tenant_id: str,
    email: str | None = None,
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    body = {"email": email or unique_email(), "password": password, **fields}
    response = client.post(f"/v0/tenants/{tenant_id}/auth/create", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def log_in(
    client: httpx.Client, tenant_id: str, identifier: str, password: str = PASSWORD
) -> httpx.Response:
    return client.post(
        f"/v0/tenants/{tenant_id}/auth/basic",
        json={"emailOrUsername": identifier, "password": password},
    )


def tokens(body: dict[str, Any]) -> tuple[str, str, str]:
    """(access, id, refresh) token values of a sign-in response."""
    t = body["tokens"]
    return t["access"]["value"], t["id"]["value"], t["refresh"]["value"]


def link_params(link: str) -> dict[str, str]:
    query = httpx.URL(link).params
    return {key: query[key] for key in query}


def outbox(client: httpx.Client, to: str, channel: str | None = None) -> list[dict[str, Any]]:
    params = {"to": to} if channel is None else {"to": to, "channel": channel}
    response = client.get("/_local/outbox", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def error(response: httpx.Response, status: int, message: str | None = None) -> dict[str, Any]:
    """Assert the error envelope (api-client §1.8) and return it."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert isinstance(body["error"], dict) and "type" in body["error"]
    if message is not None:
        assert body["message"] == message, body
    return body
