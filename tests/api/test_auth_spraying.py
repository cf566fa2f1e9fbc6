"""Password spraying (issue 8 item 6): failed first factors are limited per IP, and the
per-account attempt limit holds whichever identifier of the account is typed.

Limits are set on fresh child tenants with hour-long windows, so a window boundary
cannot fall inside a test in practice.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from authkit import error, log_in, new_tenant, sign_up, unique_email

from infra.local.testing import loopback_address

LIMITED = "Too many requests, please try again later"
INCORRECT = "Incorrect email or password"
HOUR = 3600


@pytest.fixture
def neighbour(base_url: str, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=loopback_address(request.node.nodeid + "#n"))
    with httpx.Client(base_url=base_url, timeout=30, transport=transport) as http:
        yield http


def _tenant(base_url: str, workspace, **limits: int) -> str:
    changed = {name: {"limit": value, "windowSeconds": HOUR} for name, value in limits.items()}
    return new_tenant(base_url, workspace.key("test", "admin"), {"rateLimits": changed})


def test_failed_first_factors_are_limited_per_ip(client, neighbour, base_url, workspace) -> None:
    """One wrong password at each of many accounts (and wrong codes) from one address:
    past `firstFactorFailuresPerIp` the address gets 429, even for a right password,
    while the accounts' owners elsewhere sign in as usual."""
    tenant = _tenant(base_url, workspace, firstFactorFailuresPerIp=4)
    emails = [unique_email("sprayed") for _ in range(4)]
    for email in emails:
        sign_up(neighbour, tenant, email)
    for email in emails[:3]:
        error(log_in(client, tenant, email, "Summer2026!"), 400, INCORRECT)
    code_path = f"/v0/tenants/{tenant}/auth/code"
    wrong = {"channel": "email", "email": emails[3], "verificationCode": "000000"}
    error(client.put(code_path, json=wrong), 400, "Invalid verificationCode")
    # The window is used up: failures and successes alike are 429 from this address.
    limited = log_in(client, tenant, emails[3], "Summer2026!")
    error(limited, 429, LIMITED)
    assert 0 < int(limited.headers["Retry-After"]) <= HOUR
    error(client.put(code_path, json=wrong), 429, LIMITED)
    error(log_in(client, tenant, emails[3]), 429, LIMITED)
    error(log_in(client, tenant, unique_email("unknown")), 429, LIMITED)
    sent = client.post(code_path, json={"channel": "email", "email": emails[0]}).json()
    right = {"channel": "email", "email": emails[0], "verificationCode": None}
    right["verificationCode"] = sent["result"]["verificationCode"]
    error(client.put(code_path, json=right), 429, LIMITED)
    # Other addresses are not affected.
    assert log_in(neighbour, tenant, emails[3]).status_code == 200


def test_successes_do_not_use_up_the_ip_limit(client, base_url, workspace) -> None:
    tenant = _tenant(base_url, workspace, firstFactorFailuresPerIp=2)
    email = unique_email("regular")
    sign_up(client, tenant, email)
    for _ in range(4):
        assert log_in(client, tenant, email).status_code == 200
    error(log_in(client, tenant, email, "wrong-password-1"), 400, INCORRECT)


def test_account_attempts_are_counted_whatever_identifier_is_typed(
    client, neighbour, base_url, workspace
) -> None:
    """Email and username of one account share its `attemptsPerAccount` budget."""
    tenant = _tenant(base_url, workspace, attemptsPerAccount=3)
    email, username = unique_email("both"), f"both{unique_email()[5:17]}"
    sign_up(neighbour, tenant, email, username=username)
    for typed in (email, username, email.upper()):
        error(log_in(client, tenant, typed, "wrong-password-1"), 400, INCORRECT)
    error(log_in(client, tenant, username, "wrong-password-1"), 429, LIMITED)
    # The account's password factor is locked for the window, from any address.
    error(log_in(neighbour, tenant, email), 429, LIMITED)
