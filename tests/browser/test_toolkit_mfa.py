"""TOTP set-up and MFA log-in with Userfront's own forms in Chromium.

A child tenant of the workspace with `mfa.policy: "all"` and TOTP as its only second
factor: the sign-up form must set up an authenticator before it signs the user in, and
the log-in form must ask for its code. The example app is pointed at that tenant by
answering its `/config.js` for this browser context (what a developer edits to use
another tenant); everything else is the app and the API as `make dev` serves them.
The authenticator is pyotp with the secret the form itself received (the QR code's).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

PASSWORD = "correct-horse-battery-7"
TOTP_STEP_SECONDS = 30


def token_cookies(page: Page, tenant_id: str) -> set[str]:
    names = {cookie["name"] for cookie in page.context.cookies()}
    return names & {f"access.{tenant_id}", f"id.{tenant_id}", f"refresh.{tenant_id}"}


@pytest.fixture(scope="module")
def mfa_tenant(base_url: str, workspace: Any) -> str:
    headers = {"Authorization": f"Bearer {workspace.key('test', 'admin')}"}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        created = http.post("/v0/tenants", json={"name": "Toolkit MFA"}, headers=headers)
        assert created.status_code == 200, created.text
        tenant_id: str = created.json()["tenantId"]
        settings = {
            "authentication": {
                "firstFactors": [{"channel": "email", "strategy": "password"}],
                "secondFactors": [{"channel": "authenticator", "strategy": "totp"}],
            },
            "mfa": {"policy": "all"},
        }
        updated = http.put(f"/v0/tenants/{tenant_id}/settings", json=settings, headers=headers)
        assert updated.status_code == 200, updated.text
    return tenant_id


@pytest.fixture
def mfa_page(context: BrowserContext, page: Page, mfa_tenant: str, base_url: str) -> Iterator[Page]:
    config = {"tenantId": mfa_tenant, "baseUrl": f"{base_url.rstrip('/')}/v0/"}
    script = f"window.PORTCULLIS_DEMO = {json.dumps(config)};\n"

    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="text/javascript", body=script)

    context.route("**/config.js", answer)
    yield page


def test_totp_set_up_at_sign_up_then_mfa_log_in(
    mfa_page: Page, mfa_tenant: str, screenshots: Path
) -> None:
    page = mfa_page
    email = f"toolkit-mfa-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/signup")
    form = page.locator("signup-form")
    form.locator('input[name="email"]').fill(email)
    form.locator('input[name="password"]').fill(PASSWORD)

    def is_totp_read(response: Any) -> bool:
        return response.request.method == "GET" and "/auth/totp" in response.url

    with page.expect_response(is_totp_read) as totp_answer:
        form.locator('button[type="submit"]').click()
    body = totp_answer.value.json()
    secret = str(body["totpSecret"])
    authenticator = pyotp.TOTP(secret)

    code_input = form.locator('input[name="totpCode"]')
    expect(code_input).to_be_visible()
    expect(form.locator("img")).not_to_have_count(0)  # the QR code
    page.screenshot(path=screenshots / "totp-setup.png")
    code_input.fill(authenticator.now())
    form.locator('button[type="submit"]').click()

    expect(form.get_by_text(re.compile(r"These are your backup codes"))).to_be_visible()
    expect(form.locator("li")).to_have_count(len(body["backupCodes"]))
    page.screenshot(path=screenshots / "totp-backup-codes.png")
    form.get_by_role("button", name="Continue").click()
    # The toolkit ends its TOTP set-up on its own "You're logged in!" view (it logs in with
    # `redirect: false` to show the backup codes); no navigation and no request follow
    # (docs/toolkit.md). The user is signed in: the app's dashboard shows it.
    expect(form.get_by_text("You're logged in!")).to_be_visible()
    assert len(token_cookies(page, mfa_tenant)) == 3
    page.goto("/dashboard")
    expect(page.locator("#user-email")).to_have_text(email)

    page.locator("logout-button button").click()
    expect(page).to_have_url(re.compile(r"/login$"))

    form = page.locator("login-form")
    form.locator('input[name="emailOrUsername"]').fill(email)
    form.locator('input[name="password"]').fill(PASSWORD)
    form.locator('button[type="submit"]').click()
    code_input = form.locator('input[name="totpCode"]')
    expect(code_input).to_be_visible()
    page.screenshot(path=screenshots / "totp-login.png")
    # The set-up used this step's code and a code is good once: the next step's code,
    # which the server accepts within its one-step drift window, as a phone a little fast.
    code_input.fill(authenticator.at(time.time() + TOTP_STEP_SECONDS))
    form.locator('button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("#user-email")).to_have_text(email)
