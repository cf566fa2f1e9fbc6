"""The unmodified `@userfront/core` 1.1.2, in a jsdom page, against the local runtime.

Each test drives the client through a user flow with `browser.run(<scenario>, ...)` (one
Node process and one page load per run; scenarios are in `scenarios.mjs`) and checks what
a browser would be left with: the `access.`/`id.`/`refresh.<tenantId>` cookies the client
wrote, `Userfront.user`, where the page tried to navigate, and the error message shown.
The page is at http://localhost:5173 and the API at http://127.0.0.1:<port>, so every
call is a real cross-origin XHR with preflight (`test_the_page_enforces_cors` proves the
harness would notice a missing CORS header).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

PASSWORD = "correct-horse-battery-1"
NEW_PASSWORD = "staple-orange-kettle-2"
# Tenant defaults (settings.py): where the client is sent after log in / log out.
AFTER_LOGIN = "/dashboard"
AFTER_LOGOUT = "/login"


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (as the client reads it)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def new_email() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}@example.com"


def signed_in(run: Any, browser: Any) -> dict[str, str]:
    """Assert a run left the page signed in; return its token cookies."""
    assert run.error is None, str(run)
    access, id_, refresh = browser.token_cookies
    assert set(browser.token_cookies) <= set(run.cookies), run.cookies
    claims = jwt_claims(run.cookies[access])
    assert claims["tenantId"] == browser.tenant_id
    assert claims["mode"] == "test"
    assert jwt_claims(run.cookies[id_])["userId"] == claims["userId"] == run.user["userId"]
    assert jwt_claims(run.cookies[refresh])["type"] == "refresh"
    assert not [w for w in run.warnings if "Refresh failed" in w], run.warnings
    return {name: run.cookies[name] for name in browser.token_cookies}


def signed_out(run: Any, browser: Any) -> None:
    assert not set(browser.token_cookies) & set(run.cookies), run.cookies
    assert run.user == {}, run.user


def sign_up(browser: Any, email: str | None = None, name: str = "Ada Lovelace") -> Any:
    run = browser.run("signup", email=email or new_email(), password=PASSWORD, name=name)
    signed_in(run, browser)
    return run


# ---------------------------------------------------------------------------------------
# The harness itself


class _NoCors(BaseHTTPRequestHandler):
    """Answers everything with 200 JSON but never with Access-Control-Allow-Origin."""

    def _answer(self) -> None:
        body = json.dumps({"mode": "test", "tokens": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def no_cors_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoCors)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_page_enforces_cors(browser: Any, no_cors_api: str) -> None:
    run = browser.run("login_password", api_base=no_cors_api, email=new_email(), password=PASSWORD)
    assert run.error == "Network Error"
    # The preflight went out from the page's origin and the POST never followed it.
    assert [(r["method"], r["origin"]) for r in run.requests] == [("OPTIONS", browser.page_origin)]
    assert run.cookies == {}


def test_mode_from_a_localhost_page_is_test(browser: Any) -> None:
    run = browser.run("mode")
    assert run.error is None
    assert run.result["mode"] == "test"
    assert run.result["data"]["mode"] == "test"
    path = f"/v0/tenants/{browser.tenant_id}/mode"
    assert [r["origin"] for r in run.requested("OPTIONS", path)] == [browser.page_origin]
    assert len(run.requested("GET", path)) == 1


# ---------------------------------------------------------------------------------------
# Sign up, log in, log out


def test_sign_up_with_password(browser: Any) -> None:
    email = new_email()
    run = browser.run("signup", email=email, password=PASSWORD, name="Ada Lovelace")
    cookies = signed_in(run, browser)
    assert run.user["email"] == email
    assert run.user["name"] == "Ada Lovelace"
    assert run.user["tenantId"] == browser.tenant_id
    assert run.user["mode"] == "test"
    assert run.user["isEmailConfirmed"] is False
    assert "firstFactorToken" not in run.result
    assert cookies[f"access.{browser.tenant_id}"] == run.result["tokens"]["access"]["value"]
    # The client navigates to the after-signup path the response names (path only).
    assert run.navigated_to == [browser.page_url(urlsplit(run.result["redirectTo"]).path)]


def test_log_in_with_password(browser: Any) -> None:
    email = new_email()
    sign_up(browser, email)
    run = browser.run("login_password", email=email, password=PASSWORD)
    signed_in(run, browser)
    assert run.user["email"] == email
    assert run.result["redirectTo"] == AFTER_LOGIN
    assert run.navigated_to == [browser.page_url(AFTER_LOGIN)]


@pytest.mark.parametrize("known_account", [True, False])
def test_wrong_password_is_refused_without_naming_the_cause(
    browser: Any, known_account: bool
) -> None:
    email = new_email()
    if known_account:
        sign_up(browser, email)
    run = browser.run("login_password", email=email, password="wrong-password-9")
    assert run.error == "Incorrect email or password"
    signed_out(run, browser)
    assert run.navigated_to == []


def test_log_out(browser: Any) -> None:
    cookies = signed_in(sign_up(browser), browser)
    run = browser.run("logout", page="/dashboard", cookies=cookies)
    assert run.error is None
    (call,) = run.requested("GET", "/v0/auth/logout")
    assert call["authorization"] == f"Bearer {cookies[f'access.{browser.tenant_id}']}"
    signed_out(run, browser)
    assert run.navigated_to == [browser.page_url(AFTER_LOGOUT)]
    # The session is revoked server-side: a page still holding the old cookies cannot
    # refresh (the client only logs the failure).
    stale = browser.run("refresh", page="/dashboard", cookies=cookies)
    assert stale.warnings == ["Refresh failed: Invalid token"]


# ---------------------------------------------------------------------------------------
# Signed-in page: update, refresh, roles, session checks


def test_user_update_is_visible_in_the_refreshed_id_token(browser: Any) -> None:
    cookies = signed_in(sign_up(browser), browser)
    changes = {"name": "Grace Hopper", "data": {"plan": "pro"}}
    run = browser.run("update", page="/settings", cookies=cookies, changes=changes)
    after = signed_in(run, browser)
    assert len(run.requested("PUT", "/v0/self")) == 1
    assert len(run.requested("GET", "/v0/auth/refresh")) == 1
    assert run.user["name"] == "Grace Hopper"
    assert run.user["data"] == {"plan": "pro"}
    assert run.result["returned"]["name"] == "Grace Hopper"
    assert jwt_claims(after[f"id.{browser.tenant_id}"])["name"] == "Grace Hopper"


def test_tokens_refresh_rotates_the_refresh_token_within_the_session(browser: Any) -> None:
    cookies = signed_in(sign_up(browser), browser)
    access, _, refresh = browser.token_cookies
    run = browser.run("refresh", page="/dashboard", cookies=cookies)
    after = signed_in(run, browser)
    (call,) = run.requested("GET", "/v0/auth/refresh")
    assert call["authorization"] == f"Bearer {cookies[refresh]}"
    assert after[refresh] != cookies[refresh]  # rotated (spec README rule 1)
    old, new = jwt_claims(cookies[access]), jwt_claims(after[access])
    assert new["sessionId"] == old["sessionId"]
    assert new["userId"] == old["userId"]


def test_has_role_after_an_admin_sets_it(browser: Any, api: Any, workspace: Any) -> None:
    first = sign_up(browser)
    cookies = signed_in(first, browser)
    response = api(
        "PUT",
        f"/v0/users/{first.user['userId']}/roles",
        key=workspace.key("test", "admin"),
        json={"roles": ["editor"]},
    )
    assert response.status_code == 200, response.text
    run = browser.run("has_role", page="/dashboard", cookies=cookies, role="editor")
    after = signed_in(run, browser)
    # The page's access token predates the change; the refreshed one carries the role.
    assert run.result == {"before": False, "after": True}
    claims = jwt_claims(after[f"access.{browser.tenant_id}"])
    assert claims["authorization"][browser.tenant_id]["roles"] == ["editor"]


def test_get_session_when_signed_in(browser: Any) -> None:
    cookies = signed_in(sign_up(browser), browser)
    run = browser.run("get_session", page="/dashboard", cookies=cookies)
    assert run.result == {"isLoggedIn": True, "needsSecondFactor": False}
    assert run.requested("GET", "/v0/auth/refresh") == []  # a valid access token suffices


def test_get_session_refreshes_when_only_the_refresh_token_is_left(browser: Any) -> None:
    cookies = signed_in(sign_up(browser), browser)
    refresh = f"refresh.{browser.tenant_id}"
    run = browser.run("get_session", page="/dashboard", cookies={refresh: cookies[refresh]})
    assert run.result["isLoggedIn"] is True
    assert len(run.requested("GET", "/v0/auth/refresh")) == 1
    signed_in(run, browser)


def test_get_session_without_cookies(browser: Any) -> None:
    run = browser.run("get_session", page="/dashboard")
    assert run.result["isLoggedIn"] is False
    assert run.requests == []


def test_redirect_if_logged_out_stays_when_signed_in(browser: Any) -> None:
    cookies = signed_in(sign_up(browser), browser)
    run = browser.run(
        "redirect_if_logged_out", page="/dashboard", cookies=cookies, redirect=AFTER_LOGOUT
    )
    assert run.error is None
    assert run.navigated_to == []
    assert signed_in(run, browser) == cookies


def test_redirect_if_logged_out_leaves_when_signed_out(browser: Any) -> None:
    run = browser.run("redirect_if_logged_out", page="/dashboard", redirect=AFTER_LOGOUT)
    assert run.navigated_to == [browser.page_url(AFTER_LOGOUT)]


# ---------------------------------------------------------------------------------------
# Passwordless and recovery: in test mode the client gets the link / code in the answer


def test_reset_password_with_link_credentials(browser: Any) -> None:
    email = new_email()
    sign_up(browser, email)
    run = browser.run("reset_password", page="/reset", email=email, password=NEW_PASSWORD)
    signed_in(run, browser)
    link = run.result["sent"]["result"]["link"]
    assert link.startswith(browser.page_url("/reset?")), link
    assert run.user["email"] == email
    assert run.user["isEmailConfirmed"] is True
    assert run.navigated_to == [browser.page_url(AFTER_LOGIN)]

    new = browser.run("login_password", email=email, password=NEW_PASSWORD)
    signed_in(new, browser)
    old = browser.run("login_password", email=email, password=PASSWORD)
    assert old.error == "Incorrect email or password"


def test_log_in_with_a_login_link(browser: Any) -> None:
    email = new_email()
    sign_up(browser, email)
    run = browser.run("login_link", email=email)
    signed_in(run, browser)
    link = run.result["sent"]["result"]["link"]
    assert link.startswith(browser.page_url("/login?")), link
    assert run.user["email"] == email
    assert run.user["isEmailConfirmed"] is True  # using a link proves the address
    assert run.navigated_to == [browser.page_url(AFTER_LOGIN)]


def test_log_in_with_an_email_verification_code(browser: Any) -> None:
    email = new_email()
    sign_up(browser, email)
    run = browser.run("login_code", email=email)
    signed_in(run, browser)
    assert run.result["sent"]["result"]["verificationCode"].isdigit()
    assert run.user["email"] == email
    assert run.user["isEmailConfirmed"] is True
    assert run.navigated_to == [browser.page_url(AFTER_LOGIN)]
