"""`@userfront/core` 1.1.2 as the tenant's login page in a SAML dance (api-client §12):
python3-saml (a real SP) sends its AuthnRequest / LogoutRequest to our SSO / SLO URL,
the browser lands on the login page, which is already signed in (live mode), and
`Userfront.login({ method: "saml" })` / `Userfront.logout({ method: "saml" })` navigate
to the URLs the service expects; following them completes at the SP."""

from __future__ import annotations

import base64
import dataclasses
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from onelogin.saml2.utils import OneLogin_Saml2_Utils

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))  # the SP kit
from samlkit import Sp, form_of, key_pair, pending_cookie

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def live_setup(base_url: str, workspace: Any) -> dict[str, Any]:
    """A live tenant, a signing SP registered from its metadata, and a live user."""
    key = {"Authorization": f"Bearer {workspace.key('live', 'admin')}"}
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    with httpx.Client(base_url=base_url, timeout=30) as http:
        tenant = http.post("/v0/tenants", json={"name": "SAML e2e"}, headers=key).json()
        tenant_id = tenant["tenantId"]
        saved = http.put(
            f"/v0/tenants/{tenant_id}/settings",
            json={"liveDomains": [{"domain": domain}]},
            headers=key,
        )
        assert saved.status_code == 200, saved.text
        metadata = http.get(f"/v0/tenants/{tenant_id}/auth/saml/idp/metadata").text
        cert, private = key_pair()
        sp = Sp(cert=cert, key=private)
        sp.configure(metadata)
        registered = http.post(
            f"/v0/tenants/{tenant_id}/saml/sps", json={"metadata": sp.metadata()}, headers=key
        )
        assert registered.status_code == 200, registered.text
        email = f"e2e-saml-{uuid.uuid4().hex[:10]}@example.com"
        created = http.post(
            f"/v0/tenants/{tenant_id}/auth/create",
            json={"email": email, "password": PASSWORD, "options": {"noSignupEmail": True}},
            headers={"Origin": f"https://{domain}"},
        )
        assert created.status_code == 200 and created.json()["mode"] == "live", created.text
    tokens = created.json()["tokens"]
    cookies = {
        f"access.{tenant_id}": tokens["access"]["value"],
        f"id.{tenant_id}": tokens["id"]["value"],
        f"refresh.{tenant_id}": tokens["refresh"]["value"],
    }
    return {
        "tenant": tenant_id,
        "domain": domain,
        "sp": sp,
        "email": email,
        "uuid": created.json()["userUuid"],
        "cookies": cookies,
    }


def _follow(run: Any, http: httpx.Client, cookie: str, kind: str, setup: dict[str, Any]) -> str:
    """The one navigation the client made, checked, then followed with the SP cookie."""
    assert run.error is None, str(run)
    [url] = run.navigated_to
    parsed = urlparse(url)
    assert parsed.path == f"/v0/auth/saml/idp/{kind}"
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    assert list(query) == ["tenant_id", "token", "uuid"]
    assert query["tenant_id"] == setup["tenant"] and query["uuid"] == setup["uuid"]
    page = http.get(url, headers={"Cookie": cookie})
    assert page.status_code == 200, page.text
    return page.text


def test_userfront_saml_login_and_logout_complete_at_the_sp(
    live_setup: dict[str, Any], browser: Any, base_url: str
) -> None:
    setup, sp = live_setup, live_setup["sp"]
    browser = dataclasses.replace(browser, tenant_id=setup["tenant"])
    with httpx.Client(base_url=base_url, timeout=30) as http:
        auth = sp.auth()
        sent = http.get(auth.login(return_to="/home"))
        assert sent.status_code == 302 and sent.headers["location"] == (
            f"https://{setup['domain']}/login"
        )
        run = browser.run("login_saml", cookies=setup["cookies"])
        assert [r["url"] for r in run.requested("GET", "/v0/auth/saml/idp/token")]
        page = _follow(run, http, pending_cookie(sent, setup["tenant"]), "login", setup)
        action, fields = form_of(page)
        assert action == sp.acs and fields["RelayState"] == "/home"
        acs = sp.auth(post=fields)
        acs.process_response(request_id=auth.get_last_request_id())
        assert acs.get_errors() == [], acs.get_last_error_reason()
        assert acs.get_nameid() == setup["email"]

        out = sp.auth()
        sent = http.get(out.logout(name_id=setup["email"], return_to="/bye"))
        assert sent.status_code == 302
        run = browser.run("logout_saml", cookies=setup["cookies"])
        page = _follow(run, http, pending_cookie(sent, setup["tenant"]), "logout", setup)
        action, fields = form_of(page)
        assert action == sp.sls and fields["RelayState"] == "/bye"
        # Our LogoutResponse is POSTed with an enveloped signature (§12.3); python3-saml's
        # process_slo reads it from the query and would want a query signature there.
        document = base64.b64decode(fields["SAMLResponse"])
        assert OneLogin_Saml2_Utils.validate_sign(
            document,
            sp.settings["idp"]["x509cert"],
            xpath="/samlp:LogoutResponse/ds:Signature",
            raise_exceptions=False,
        )
        sls = sp.auth(path="/sls", get={"SAMLResponse": fields["SAMLResponse"]})
        sls.get_settings().get_security_data()["wantMessagesSigned"] = False
        sls.process_slo(request_id=out.get_last_request_id(), keep_local_session=True)
        assert sls.get_errors() == [], sls.get_last_error_reason()
        # The client kept its own cookies: still signed in to the tenant's app.
        assert set(browser.token_cookies) <= set(run.cookies)
