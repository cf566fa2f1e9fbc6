"""Account pre-hijacking (issue 8 item 4): the first proof of an unconfirmed address
claims the account, whoever signed it up.

The squatter signs up first with the victim's address and a password of their own
(from their own address); the victim later proves the mailbox (login link, email code,
verify-email link) or the phone (SMS code) from theirs. After that the squatter's
password no longer works and the squatter's session is over.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from authkit import (
    PASSWORD,
    bearer,
    error,
    link_params,
    log_in,
    new_tenant,
    sign_up,
    tokens,
    unique_email,
    unique_phone,
)

from infra.local.testing import loopback_address

INCORRECT = "Incorrect email or password"


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"), name="Claim tests")


@pytest.fixture
def victim(base_url: str, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """The mailbox owner's browser, on another address than the squatter's `client`."""
    transport = httpx.HTTPTransport(local_address=loopback_address(request.node.nodeid + "#v"))
    with httpx.Client(base_url=base_url, timeout=30, transport=transport) as http:
        yield http


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def _prove_by_link(http: httpx.Client, tenant: str, email: str) -> dict:
    sent = _ok(http.post(f"/v0/tenants/{tenant}/auth/link", json={"email": email}))
    params = link_params(sent["result"]["link"])
    body = {"uuid": params["uuid"], "token": params["token"]}
    return _ok(http.put(f"/v0/tenants/{tenant}/auth/link", json=body))


def _prove_by_code(http: httpx.Client, tenant: str, email: str) -> dict:
    path = f"/v0/tenants/{tenant}/auth/code"
    sent = _ok(http.post(path, json={"channel": "email", "email": email}))
    code = sent["result"]["verificationCode"]
    return _ok(http.put(path, json={"channel": "email", "email": email, "verificationCode": code}))


def _prove_by_verify_email(http: httpx.Client, tenant: str, email: str) -> dict:
    sent = _ok(http.post(f"/v0/tenants/{tenant}/auth/verify/email", json={"email": email}))
    params = link_params(sent["result"]["link"])
    assert params["type"] == "verify"
    body = {"uuid": params["uuid"], "token": params["token"]}
    return _ok(http.put(f"/v0/tenants/{tenant}/auth/link", json=body))


@pytest.mark.parametrize(
    "prove",
    [_prove_by_link, _prove_by_code, _prove_by_verify_email],
    ids=["link", "code", "verify"],
)
def test_proving_the_mailbox_evicts_the_squatter(client, victim, tenant, prove) -> None:
    email = unique_email("squatted")
    squatter = sign_up(client, tenant, email)
    assert squatter["isEmailConfirmed"] is False
    access, _, refresh = tokens(squatter)
    claimed = prove(victim, tenant, email)
    assert claimed["userId"] == squatter["userId"] and claimed["isEmailConfirmed"] is True
    # The squatter's password is gone, and so is their session (and its tokens).
    error(log_in(client, tenant, email), 400, INCORRECT)
    error(client.get("/v0/auth/refresh", headers=bearer(refresh)), 401)
    error(client.get("/v0/self", headers=bearer(access)), 401)
    # The claimant's own session is the one that lives.
    mine = tokens(claimed)
    assert victim.get("/v0/self", headers=bearer(mine[0])).status_code == 200
    # A later proof of the now confirmed address changes nothing for a password set since.
    assert (
        victim.put(
            f"/v0/tenants/{tenant}/auth/basic", json={"password": PASSWORD}, headers=bearer(mine[0])
        ).status_code
        == 200
    )
    again = _prove_by_link(victim, tenant, email)
    assert victim.get("/v0/self", headers=bearer(tokens(again)[0])).status_code == 200
    assert log_in(victim, tenant, email).status_code == 200
    assert victim.get("/v0/self", headers=bearer(mine[0])).status_code == 200


def test_a_squatted_phone_number_is_dropped_when_the_email_is_proved(
    client, victim, tenant
) -> None:
    """The squatter puts the victim's phone number on an account with their own email:
    proving that email drops the unconfirmed number, so the victim's SMS log-in makes
    the victim an account of their own instead of landing in the squatter's."""
    phone, email = unique_phone(), unique_email("squatter")
    path = f"/v0/tenants/{tenant}/auth/code"
    _ok(client.post(path, json={"channel": "sms", "phoneNumber": phone, "email": email}))
    squatter = _prove_by_link(client, tenant, email)
    assert squatter["phoneNumber"] is None
    sent = _ok(victim.post(path, json={"channel": "sms", "phoneNumber": phone}))
    code = sent["result"]["verificationCode"]
    mine = _ok(
        victim.put(path, json={"channel": "sms", "phoneNumber": phone, "verificationCode": code})
    )
    assert mine["userId"] != squatter["userId"] and mine["phoneNumber"] == phone


def test_proving_the_phone_evicts_the_squatter(client, victim, tenant) -> None:
    """The same for an SMS code: a squatter who signed up with the victim's number (and
    an unconfirmed email of theirs) loses the account when the victim proves the number."""
    phone, email = unique_phone(), unique_email("squatter")
    path = f"/v0/tenants/{tenant}/auth/code"
    _ok(client.post(path, json={"channel": "sms", "phoneNumber": phone, "email": email}))
    sent = _ok(victim.post(path, json={"channel": "sms", "phoneNumber": phone}))
    code = sent["result"]["verificationCode"]
    mine = _ok(
        victim.put(path, json={"channel": "sms", "phoneNumber": phone, "verificationCode": code})
    )
    assert mine["phoneNumber"] == phone and mine["email"] is None
    # The squatter's email is off the account: proving it now makes a separate account.
    theirs = _prove_by_link(client, tenant, email)
    assert theirs["userId"] != mine["userId"]
