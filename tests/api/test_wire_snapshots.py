"""The shape of every client and server response kind, locked by JSON snapshots.

Each test makes real requests to the local runtime and compares status + body with
`snapshots/<kind>.json` after `wiresnap.normalise` has replaced the volatile values
(ids, uuids, times, tokens, keys) by placeholders. So a field that is added, removed,
renamed or changes type fails here with a diff; a change on purpose is recorded with
`UPDATE_SNAPSHOTS=1 pytest tests/api/test_wire_snapshots.py` and reviewed as a diff of
the snapshot files. The contract: the spec's api-client.md and api-server.md.

Every test builds what it needs in tenants of its own with fixed names and emails of
one recognisable pattern, so the snapshots do not depend on test order or on which
xdist worker runs a test. A kind may be checked by more than one test (the legacy
paths share the tenant paths' kinds): an update run keeps whichever wrote last, so
run the comparison again after updating.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from authkit import PASSWORD, bearer, link_params, new_tenant, tokens
from conformance import conforms
from test_users_support import Tenant
from test_users_support import new_tenant as new_server_tenant
from wiresnap import SNAPSHOT_DIR, UPDATE_VARIABLE, check, normalise, render

LINK_ONLY = [{"channel": "email", "strategy": "link"}]
USER_AGENT = "portcullis-snapshot-test/1"


def snap_email() -> str:
    """Matches the `<email>` placeholder rule (wiresnap._TEST_EMAIL)."""
    return f"snap-{uuid.uuid4().hex[:12]}@example.com"


def snap_phone() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]


def snap(kind: str, response: httpx.Response) -> dict[str, Any]:
    """Compare `response` with `snapshots/<kind>.json`; return its body for the next step."""
    body = response.json()
    check(kind, response.status_code, body)
    conforms(response)  # and the answer is what docs/openapi.json declares
    return body


@pytest.fixture(scope="module")
def tenant(base_url: str, workspace: Any) -> str:
    """A client-API tenant of this module: every first factor on, roomy limits."""
    return new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"loginRedirectPath": "/home", "logoutRedirectPath": "/bye"},
        name="Snapshot client",
    )


@pytest.fixture
def server(api: Any, workspace: Any) -> Tenant:
    """A child tenant of the workspace with its own admin key, fresh for each test."""
    return new_server_tenant(api, workspace.keys["test"]["admin"], name="Snapshot server")


def _sign_up(client: httpx.Client, tenant: str, **fields: Any) -> httpx.Response:
    """A password sign-up; the session records a fixed user agent, not httpx's version."""
    body = {"email": snap_email(), "password": PASSWORD, **fields}
    response = client.post(
        f"/v0/tenants/{tenant}/auth/create", json=body, headers={"User-Agent": USER_AGENT}
    )
    assert response.status_code == 200, response.text
    return response


def _segments(token: str) -> dict[str, Any]:
    header, payload, _ = token.split(".")

    def decode(part: str) -> Any:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    return {"header": decode(header), "payload": decode(payload)}


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# ------------------------------------------------------------------ client API (api-client)


def test_mode(client: httpx.Client, tenant: str) -> None:
    snap("client-mode", client.get(f"/v0/tenants/{tenant}/mode"))


def test_sign_up_and_token_claims(client: httpx.Client, tenant: str) -> None:
    response = _sign_up(client, tenant, name="Snap Shot", data={"plan": "pro"})
    body = snap("client-sign-up", response)
    access, id_token, refresh = tokens(body)
    claims = {"access": _segments(access), "id": _segments(id_token), "refresh": _segments(refresh)}
    check("client-token-claims", 200, claims)


def test_password_log_in(client: httpx.Client, tenant: str) -> None:
    email = snap_email()
    _sign_up(client, tenant, email=email)
    body = {"emailOrUsername": email, "password": PASSWORD}
    snap("client-log-in-password", client.post(f"/v0/tenants/{tenant}/auth/basic", json=body))


def test_legacy_paths_answer_the_same_shapes(client: httpx.Client, tenant: str) -> None:
    """The short paths (api-client §14.2, tenant in the body) share the tenant paths'
    snapshots: the same answer whichever path a client library uses."""
    email = snap_email()
    body = {"tenantId": tenant, "email": email, "password": PASSWORD}
    created = client.post(
        "/v0/auth/create",
        json={**body, "name": "Snap Shot", "data": {"plan": "pro"}},
        headers={"User-Agent": USER_AGENT},
    )
    snap("client-sign-up", created)
    plain = snap_email()  # no name or data, as in test_password_log_in
    _sign_up(client, tenant, email=plain)
    log_in = {"tenantId": tenant, "emailOrUsername": plain, "password": PASSWORD}
    snap("client-log-in-password", client.post("/v0/auth/basic", json=log_in))
    sent = client.post("/v0/auth/link", json={"tenantId": tenant, "email": snap_email()})
    snap("client-link-send", sent)


def test_link_send_and_log_in(client: httpx.Client, tenant: str) -> None:
    sent = snap(
        "client-link-send",
        client.post(f"/v0/tenants/{tenant}/auth/link", json={"email": snap_email()}),
    )
    params = link_params(sent["result"]["link"])
    body = {"token": params["token"], "uuid": params["uuid"]}
    snap("client-log-in-link", client.put(f"/v0/tenants/{tenant}/auth/link", json=body))


def test_code_send_and_log_in(client: httpx.Client, tenant: str) -> None:
    path = f"/v0/tenants/{tenant}/auth/code"
    email_sent = snap(
        "client-code-send-email",
        client.post(path, json={"channel": "email", "email": snap_email()}),
    )
    assert email_sent["result"]["verificationCode"]
    phone = snap_phone()
    sms = snap(
        "client-code-send-sms", client.post(path, json={"channel": "sms", "phoneNumber": phone})
    )
    body = {
        "channel": "sms",
        "phoneNumber": phone,
        "verificationCode": sms["result"]["verificationCode"],
    }
    snap("client-log-in-code", client.put(path, json=body))


def test_refresh(client: httpx.Client, tenant: str) -> None:
    refresh = tokens(_sign_up(client, tenant).json())[2]
    snap("client-refresh", client.get("/v0/auth/refresh", headers=bearer(refresh)))


def test_self_read_and_update(client: httpx.Client, tenant: str) -> None:
    access = tokens(_sign_up(client, tenant, name="Self", data={"keep": 1}).json())[0]
    snap("client-self-get", client.get("/v0/self", headers=bearer(access)))
    update = {"name": "Self Updated", "data": {"added": True}}
    snap("client-self-put", client.put("/v0/self", json=update, headers=bearer(access)))


def test_session_and_sessions(client: httpx.Client, tenant: str) -> None:
    access = tokens(_sign_up(client, tenant).json())[0]
    snap("client-session", client.get("/v0/auth/session", headers=bearer(access)))
    snap("client-sessions", client.get("/v0/auth/sessions", headers=bearer(access)))


def test_log_out_and_log_out_all(client: httpx.Client, tenant: str) -> None:
    first = tokens(_sign_up(client, tenant).json())[0]
    snap("client-log-out", client.post("/v0/auth/logout", headers=bearer(first)))
    second = tokens(_sign_up(client, tenant).json())[0]
    snap("client-log-out-all", client.post("/v0/auth/logout/all", headers=bearer(second)))


def test_reset(client: httpx.Client, tenant: str) -> None:
    email = snap_email()
    _sign_up(client, tenant, email=email)
    path = f"/v0/tenants/{tenant}/auth/reset/link"
    sent = snap("client-reset-send", client.post(path, json={"email": email}))
    unknown = client.post(path, json={"email": snap_email()})
    snap("client-reset-send-unknown", unknown)
    params = link_params(sent["result"]["link"])
    body = {"uuid": params["uuid"], "token": params["token"], "password": "brand-new-password-42"}
    snap("client-reset", client.put(f"/v0/tenants/{tenant}/auth/reset", json=body))


def test_verify_email_and_phone(client: httpx.Client, tenant: str) -> None:
    email = snap_email()
    access = tokens(_sign_up(client, tenant, email=email).json())[0]
    path = f"/v0/tenants/{tenant}/auth/verify"
    snap("client-verify-email-send", client.post(f"{path}/email", json={"email": email}))
    phone = {"phoneNumber": snap_phone()}
    snap(
        "client-verify-phone-send",
        client.post(f"{path}/phone", json=phone, headers=bearer(access)),
    )


def test_pkce(client: httpx.Client, tenant: str) -> None:
    email = snap_email()
    _sign_up(client, tenant, email=email)
    verifier, challenge = _pkce_pair()
    required = snap(
        "client-pkce-required",
        client.post(
            f"/v0/tenants/{tenant}/auth/basic",
            params={"code_challenge": challenge},
            json={"emailOrUsername": email, "password": PASSWORD},
        ),
    )
    body = {"authorizationCode": required["authorizationCode"], "codeVerifier": verifier}
    snap("client-pkce-exchange", client.post(f"/v0/tenants/{tenant}/auth/pkce", json=body))


def test_jwks_and_public_keys(api: Any, workspace: Any) -> None:
    """A tenant made with a live key has live keys only, one made with a test key test
    keys only: the default (live) paths on the first, the test ones on the second."""
    paths = {}
    for mode in ("live", "test"):
        key = workspace.keys[mode]["admin"]
        made = api("POST", "/v0/tenants", key=key, json={"name": f"Keys {mode}"})
        assert made.status_code == 200, made.text
        paths[mode] = f"/v0/tenants/{made.json()['tenantId']}"
    snap("jwks", api("GET", f"{paths['live']}/jwks"))
    snap("jwt-public-keys", api("GET", f"{paths['live']}/keys/jwt"))
    snap("jwks-test", api("GET", f"{paths['test']}/jwks/test"))
    test_keys = api("GET", f"{paths['test']}/keys/jwt", params={"test": "true"})
    snap("jwt-public-keys-test", test_keys)


def test_live_mode_answers(client: httpx.Client, base_url: str, workspace: Any) -> None:
    """Live mode (an Origin on a live domain): secure cookies, and send answers that carry
    a receipt instead of the link or code (api-client §1.7)."""
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    live = new_tenant(
        base_url,
        workspace.key("live", "admin"),
        {"liveDomains": [{"domain": domain}]},
        name="Snapshot live",
    )
    origin = {"Origin": f"https://app.{domain}", "User-Agent": USER_AGENT}
    path = f"/v0/tenants/{live}/auth"
    email = snap_email()
    body = {"email": email, "password": PASSWORD, "options": {"noSignupEmail": True}}
    snap("client-sign-up-live", client.post(f"{path}/create", json=body, headers=origin))

    def send(route: str, payload: dict[str, Any]) -> httpx.Response:
        return client.post(f"{path}/{route}", json=payload, headers=origin)

    snap("client-link-send-live", send("link", {"email": snap_email()}))
    code_by_email = {"channel": "email", "email": snap_email()}
    snap("client-code-send-email-live", send("code", code_by_email))
    code_by_sms = {"channel": "sms", "phoneNumber": snap_phone()}
    snap("client-code-send-sms-live", send("code", code_by_sms))
    snap("client-reset-send-live", send("reset/link", {"email": email}))
    snap("client-verify-email-send-live", send("verify/email", {"email": email}))


# ---------------------------------------------------------------------- error envelopes


def test_error_400(client: httpx.Client, tenant: str) -> None:
    body = {"emailOrUsername": snap_email(), "password": PASSWORD}
    snap("error-400", client.post(f"/v0/tenants/{tenant}/auth/basic", json=body))


def test_error_400_conflict(api: Any, server: Tenant) -> None:
    """Duplicates are 400, never 409 (api-server §5 "Unspecified: conflicts")."""
    email = snap_email()
    assert api("POST", "/v0/users", key=server.admin, json={"email": email}).status_code == 200
    snap("error-400-conflict", api("POST", "/v0/users", key=server.admin, json={"email": email}))


def test_error_401(client: httpx.Client) -> None:
    snap("error-401-missing", client.get("/v0/self"))
    snap("error-401", client.get("/v0/self", headers=bearer("not-a-token")))


def test_error_403(client: httpx.Client, base_url: str, workspace: Any) -> None:
    link_only = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"authentication": {"firstFactors": LINK_ONLY}},
        name="Snapshot link only",
    )
    body = {"emailOrUsername": snap_email(), "password": PASSWORD}
    snap("error-403", client.post(f"/v0/tenants/{link_only}/auth/basic", json=body))


def test_error_404(api: Any, server: Tenant) -> None:
    snap("error-404", api("GET", "/v0/users/999999", key=server.admin))


def test_error_405(client: httpx.Client, tenant: str) -> None:
    snap("error-405", client.get(f"/v0/tenants/{tenant}/auth/create"))


def test_error_429(client: httpx.Client, base_url: str, workspace: Any) -> None:
    limited = new_tenant(
        base_url,
        workspace.key("test", "admin"),
        {"rateLimits": {"signupPerIp": {"limit": 1, "windowSeconds": 3600}}},
        name="Snapshot limited",
    )
    _sign_up(client, limited)
    body = {"email": snap_email(), "password": PASSWORD}
    snap("error-429", client.post(f"/v0/tenants/{limited}/auth/create", json=body))


# ------------------------------------------------------------------ server API (api-server)


def _user(api: Any, server: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"email": snap_email(), **fields}
    created = api("POST", "/v0/users", key=server.admin, json=body)
    assert created.status_code == 200, created.text
    return dict(created.json())


def test_user_object(api: Any, server: Tenant) -> None:
    body = {
        "email": snap_email(),
        "username": "snap-user",
        "name": "Snap User",
        "image": "https://example.com/snap.png",
        "phoneNumber": "+15558675309",
        "data": {"plan": "pro"},
        "password": PASSWORD,
    }
    user = snap("server-user-create", api("POST", "/v0/users", key=server.admin, json=body))
    path = f"/v0/users/{user['userId']}"
    snap("server-user-get", api("GET", path, key=server.admin))
    update = {"name": "Renamed", "data": {"seats": 3}}
    snap("server-user-update", api("PUT", path, key=server.admin, json=update))
    snap("server-user-active", api("POST", f"{path}/active", key=server.admin))
    snap("server-user-delete", api("DELETE", path, key=server.admin))


def test_user_create_or_update_and_invite(api: Any, server: Tenant) -> None:
    body = {"email": snap_email(), "name": "Upserted"}
    snap(
        "server-user-create-or-update",
        api("POST", "/v0/users/createOrUpdate", key=server.admin, json=body),
    )
    invite = {"email": snap_email(), "name": "Invited"}
    snap("server-user-invite", api("POST", "/v0/users/invite", key=server.admin, json=invite))


def test_user_list_and_search(api: Any, server: Tenant) -> None:
    _user(api, server, name="First")
    _user(api, server, name="Second")
    snap("server-users-list", api("GET", "/v0/users", key=server.admin))
    search = {"search": "First", "limit": 1}
    snap("server-users-find", api("POST", "/v0/users/find", key=server.admin, json=search))


def test_link_generation(api: Any, server: Tenant) -> None:
    user = _user(api, server)
    body = {"userId": user["userId"], "options": {"type": "login"}}
    snap("server-link-generate", api("POST", "/v0/auth/link/generate", key=server.admin, json=body))


def test_tenant_object_and_list(api: Any, server: Tenant) -> None:
    made = snap(
        "server-tenant-create",
        api("POST", "/v0/tenants", key=server.admin, json={"name": "Snap child"}),
    )
    path = f"/v0/tenants/{made['tenantId']}"
    snap("server-tenant-get", api("GET", path, key=server.admin))
    snap("server-tenant-update", api("PUT", path, key=server.admin, json={"name": "Renamed"}))
    grandchild = snap(
        "server-tenant-create-child",
        api("POST", f"{path}/tenants", key=server.admin, json={"name": "Grandchild"}),
    )
    snap(
        "server-tenants-find",
        api("POST", f"/v0/tenants/{server.tenant_id}/tenants/find", key=server.admin, json={}),
    )
    gone = api("DELETE", f"/v0/tenants/{grandchild['tenantId']}", key=server.admin)
    snap("server-tenant-delete", gone)


def test_settings(api: Any, server: Tenant) -> None:
    path = f"/v0/tenants/{server.tenant_id}/settings"
    snap("server-settings-get", api("GET", path, key=server.admin))
    snap(
        "server-settings-put", api("PUT", path, key=server.admin, json={"loginRedirectPath": "/in"})
    )


def test_roles(api: Any, server: Tenant) -> None:
    snap("server-role-create", api("POST", "/v0/roles", key=server.admin, json={"name": "Editor"}))
    snap("server-roles-list", api("GET", "/v0/roles", key=server.admin))
    user = _user(api, server)
    roles = {"roles": ["Editor"]}
    snap(
        "server-user-roles-set",
        api("PUT", f"/v0/users/{user['userId']}/roles", key=server.admin, json=roles),
    )
    invite = {"email": snap_email(), "roles": ["Editor"]}
    snap("server-role-invite", api("POST", "/v0/roles/invite", key=server.admin, json=invite))
    snap("server-role-delete", api("DELETE", "/v0/roles/Editor", key=server.admin))


def test_api_keys(api: Any, server: Tenant, workspace: Any) -> None:
    admin = workspace.keys["test"]["admin"]
    body = {"type": "readonly", "tenantId": server.tenant_id}
    created = snap("server-key-create", api("POST", "/v0/keys", key=admin, json=body))
    listed = api("GET", f"/v0/tenants/{server.tenant_id}/keys/readonly", key=admin)
    snap("server-keys-list", listed)
    key = {"key": created["key"]}
    snap("server-key-verify", api("POST", "/v0/keys/verify", key=admin, json=key))
    snap("server-key-invalidate", api("PUT", "/v0/keys/invalidate", key=admin, json=key))
    # An invalid key is a 400 that still says what the key is (api-server §11.3)...
    snap("server-key-verify-inactive", api("POST", "/v0/keys/verify", key=admin, json=key))
    snap("server-key-delete", api("DELETE", "/v0/keys", key=admin, json=key))
    # ...and a deleted one a plain error envelope.
    snap("server-key-verify-unknown", api("POST", "/v0/keys/verify", key=admin, json=key))


def test_admin_sessions(client: httpx.Client, tenant: str, workspace: Any) -> None:
    created = _sign_up(client, tenant).json()
    admin = bearer(workspace.key("test", "admin"))
    base = f"/v0/tenants/{tenant}/users/{created['userId']}/sessions"
    snap("server-sessions-list", client.get(base, headers=admin))
    snap("server-session-delete", client.delete(f"{base}/{created['sessionId']}", headers=admin))
    snap("server-sessions-delete", client.delete(base, headers=admin))


# ------------------------------------------------------- the snapshot machinery itself


def _kinds_named_here() -> set[str]:
    """Every kind this module names in a `snap(...)` or `check(...)` call of the real
    snapshot directory (the machinery's own tests below pass `directory=`)."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("snap", "check")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and not any(keyword.arg == "directory" for keyword in node.keywords)
    }


def test_every_snapshot_file_belongs_to_a_test() -> None:
    """A kind whose test was removed or renamed must not leave a stale file behind."""
    files = {path.stem for path in SNAPSHOT_DIR.glob("*.json")}
    assert files == _kinds_named_here()


@pytest.fixture
def comparing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machinery's own tests compare, even in a run that updates the snapshots."""
    monkeypatch.delenv(UPDATE_VARIABLE, raising=False)


SAMPLE = {
    "userId": 7,
    "userUuid": "0b0c4f4e-8f5a-4c1e-9a53-1d1e4b6f0a11",
    "tenantId": "ab12cd34",
    "createdAt": "2026-12-07T01:02:03.456Z",
    "authorization": {"ab12cd34": {"roles": ["admin"]}},
    "tokens": {"access": {"value": "eyJhbGciOi.eyJzdWIiOi.c2ln"}},
    "link": "http://localhost:3000/login?uuid=0b0c4f4e-8f5a-4c1e-9a53-1d1e4b6f0a11&type=login",
    "name": "password",
}


def test_normalise_replaces_only_volatile_values() -> None:
    assert normalise(SAMPLE) == {
        "userId": "<int>",
        "userUuid": "<uuid>",
        "tenantId": "<tenant-id>",
        "createdAt": "<iso-time>",
        "authorization": {"<tenant-id>": {"roles": ["admin"]}},
        "tokens": {"access": {"value": "<jwt>"}},
        "link": "http://localhost:3000/login?uuid=<uuid>&type=login",
        "name": "password",  # eight lowercase letters, but not a tenantId field
    }


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda body: body.update(extra=True), id="field added"),
        pytest.param(lambda body: body.pop("name"), id="field removed"),
        pytest.param(lambda body: body.update(fullName=body.pop("name")), id="field renamed"),
        pytest.param(lambda body: body.update(userId="7"), id="int became string"),
        pytest.param(lambda body: body.update(createdAt=1765069323), id="time became number"),
        pytest.param(lambda body: body.update(tenantId=None), id="id became null"),
        pytest.param(lambda body: body["tokens"]["access"].pop("value"), id="nested removed"),
        pytest.param(lambda body: body.update(authorization=[]), id="object became list"),
    ],
)
@pytest.mark.usefixtures("comparing")
def test_a_changed_shape_fails_the_comparison(tmp_path: Path, change: Any) -> None:
    check("sample", 200, SAMPLE, directory=_recorded(tmp_path))
    changed = json.loads(json.dumps(SAMPLE))
    change(changed)
    with pytest.raises(AssertionError, match="the wire shape changed"):
        check("sample", 200, changed, directory=tmp_path)


@pytest.mark.usefixtures("comparing")
def test_other_volatile_values_compare_equal(tmp_path: Path) -> None:
    """Two runs differ only in volatile values: the snapshot still matches."""
    check("sample", 200, SAMPLE, directory=_recorded(tmp_path))
    other = json.loads(json.dumps(SAMPLE))
    other.update(userId=99, userUuid=str(uuid.uuid4()), tenantId="zz99yy88")
    other["authorization"] = {"zz99yy88": {"roles": ["admin"]}}
    check("sample", 200, other, directory=tmp_path)


@pytest.mark.usefixtures("comparing")
def test_a_missing_snapshot_fails_unless_updating(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no snapshot"):
        check("absent", 200, SAMPLE, directory=tmp_path)
    assert not (tmp_path / "absent.json").exists()


def _recorded(directory: Path) -> Path:
    (directory / "sample.json").write_text(render(200, SAMPLE), encoding="utf-8")
    return directory
