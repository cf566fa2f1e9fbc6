"""Userfront's own forms (`@userfront/toolkit` 1.1.2 web components) in a real Chromium.

A user signs up, logs out, logs in, mistypes a password, resets it through the emailed
link, and logs in by emailed link and by emailed code, all on the example app that
`make dev` serves (`infra/local/demo.py`), with nothing but the forms' own requests to
the API: the tenant's flow from `GET /v0/tenants/{id}/mode`, the sign-in calls, CORS,
the token cookies the client writes. One screenshot per form goes to the `screenshots`
directory (see conftest.py).

The demo is in test mode (an http origin), and test mode sends no email (docs/emails.md):
the link or code is in the answer to the form's own request, where a developer reads it
in the browser's network panel. The tests read it there too (`sent`), and check that
`/_local/outbox` stays empty for the address, as it must in test mode.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, Response, expect

PASSWORD = "correct-horse-battery-7"
NEW_PASSWORD = "staple-orange-kettle-8"
CODE = re.compile(r"[0-9]{6}")


def new_email() -> str:
    return f"toolkit-{uuid.uuid4().hex[:12]}@example.com"


def create_user(client: httpx.Client, tenant_id: str, email: str) -> None:
    """A user with a password, through the public sign-up endpoint (not the form)."""
    response = client.post(
        f"/v0/tenants/{tenant_id}/auth/create",
        json={"email": email, "password": PASSWORD, "name": "Grace Hopper"},
    )
    assert response.status_code == 200, response.text


def nothing_emailed(client: httpx.Client, to: str) -> None:
    response = client.get("/_local/outbox", params={"to": to})
    assert response.status_code == 200, response.text
    assert response.json() == [], "test mode sent an email"


def send_answer(page: Page, endpoint: str, submit: Any) -> dict[str, Any]:
    """`result` of the form's `POST .../auth/<endpoint>` that `submit()` makes it send."""

    def is_send(response: Response) -> bool:
        request = response.request
        return request.method == "POST" and request.url.endswith(f"/auth/{endpoint}")

    with page.expect_response(is_send) as answer:
        submit()
    response = answer.value
    assert response.status == 200, response.text()
    result: dict[str, Any] = response.json()["result"]
    return result


def app_link(result: dict[str, Any], demo_url: str) -> str:
    """The test-mode link: it must lead back to the example app's own origin."""
    link = str(result["link"])
    assert link.startswith(f"{demo_url}/"), link
    return link


def shows_dashboard(page: Page, email: str) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("#user-email")).to_have_text(email)
    assert not page.page_errors, page.page_errors  # type: ignore[attr-defined]


def token_cookies(page: Page, tenant_id: str) -> set[str]:
    names = {cookie["name"] for cookie in page.context.cookies()}
    return names & {f"access.{tenant_id}", f"id.{tenant_id}", f"refresh.{tenant_id}"}


def fill_password_login(page: Page, email: str, password: str) -> None:
    form = page.locator("login-form")
    form.locator('input[name="emailOrUsername"]').fill(email)
    form.locator('input[name="password"]').fill(password)
    form.locator('button[type="submit"]').click()


def test_sign_up_with_password_then_log_out(page: Page, workspace: Any, screenshots: Path) -> None:
    email = new_email()
    page.goto("/signup")
    form = page.locator("signup-form")
    form.locator('input[name="email"]').fill(email)
    form.locator('input[name="password"]').fill(PASSWORD)
    page.screenshot(path=screenshots / "signup.png")
    form.locator('button[type="submit"]').click()

    shows_dashboard(page, email)
    assert len(token_cookies(page, workspace.tenant_id)) == 3

    page.locator("logout-button button").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert token_cookies(page, workspace.tenant_id) == set()
    page.goto("/dashboard")
    expect(page.locator("#signed-out")).to_be_visible()


def test_log_in_with_password(
    page: Page, client: httpx.Client, workspace: Any, screenshots: Path
) -> None:
    email = new_email()
    create_user(client, workspace.tenant_id, email)
    page.goto("/login")
    fill_password_login(page, email, PASSWORD)
    page.screenshot(path=screenshots / "login.png")
    shows_dashboard(page, email)
    page.screenshot(path=screenshots / "dashboard.png")


def test_wrong_password_shows_the_forms_error(
    page: Page, client: httpx.Client, workspace: Any
) -> None:
    email = new_email()
    create_user(client, workspace.tenant_id, email)
    page.goto("/login")
    fill_password_login(page, email, "not-the-password-1")
    error = page.locator("login-form .userfront-error-text")
    expect(error).to_have_text("Incorrect email or password")
    expect(page).to_have_url(re.compile(r"/login$"))
    assert token_cookies(page, workspace.tenant_id) == set()


def test_reset_password_through_the_emailed_link(
    page: Page, client: httpx.Client, workspace: Any, demo_url: str, screenshots: Path
) -> None:
    email = new_email()
    create_user(client, workspace.tenant_id, email)
    page.goto("/reset")
    form = page.locator("password-reset-form")
    form.locator('input[name="email"]').fill(email)
    page.screenshot(path=screenshots / "reset.png")
    result = send_answer(page, "reset/link", form.locator('button[type="submit"]').click)
    expect(form.get_by_text("Check your email")).to_be_visible()
    nothing_emailed(client, email)

    link = app_link(result, demo_url)
    assert link.startswith(f"{demo_url}/reset?"), link
    page.goto(link)
    form.locator('input[name="newPassword"]').fill(NEW_PASSWORD)
    form.locator('input[name="confirmNewPassword"]').fill(NEW_PASSWORD)
    page.screenshot(path=screenshots / "reset-new-password.png")
    form.locator('button[type="submit"]').click()
    shows_dashboard(page, email)

    old = client.post(
        f"/v0/tenants/{workspace.tenant_id}/auth/basic",
        json={"emailOrUsername": email, "password": PASSWORD},
    )
    assert old.status_code == 400, old.text
    assert old.json()["message"] == "Incorrect email or password"


def test_passwordless_link_log_in(
    page: Page, client: httpx.Client, workspace: Any, demo_url: str, screenshots: Path
) -> None:
    email = new_email()
    create_user(client, workspace.tenant_id, email)
    page.goto("/login")
    form = page.locator("login-form")
    form.get_by_role("button", name="Email me a link").click()
    form.locator('input[name="email"]').fill(email)
    page.screenshot(path=screenshots / "login-link.png")
    result = send_answer(page, "link", form.locator('button[type="submit"]').click)
    expect(form.get_by_text("Check your email")).to_be_visible()
    nothing_emailed(client, email)

    page.goto(app_link(result, demo_url))
    shows_dashboard(page, email)


def test_verification_code_log_in(
    page: Page, client: httpx.Client, workspace: Any, screenshots: Path
) -> None:
    email = new_email()
    create_user(client, workspace.tenant_id, email)
    page.goto("/login")
    form = page.locator("login-form")
    form.get_by_role("button", name="Email me a code").click()
    form.locator('input[name="email"]').fill(email)
    result = send_answer(page, "code", form.locator('button[type="submit"]').click)
    nothing_emailed(client, email)

    code_input = form.locator('input[name="verificationCode"]')
    expect(code_input).to_be_visible()
    code = str(result["verificationCode"])
    assert CODE.fullmatch(code), result
    code_input.fill(code)
    page.screenshot(path=screenshots / "login-code.png")
    form.locator('button[type="submit"]').click()
    shows_dashboard(page, email)
