"""Passthrough migration (concepts §7.2; api-client §7.1, §7.3): the settings API and a
password log-in checked by a real HTTP upstream (a threaded `http.server` in this
process, reached by the runtime over loopback: test mode, and the local runtime lets
test mode reach loopback as it does for webhooks).

Users are created through the server API without a password, as an import would leave
them. The table is read back through the runtime's moto to show what is stored.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import boto3
import httpx
import pytest
from authkit import ALL_FIRST_FACTORS, bearer, error, new_tenant, sign_up, unique_email
from conformance import conforms

INCORRECT = "Incorrect email or password"
UNREACHABLE = "Unable to reach the login service"
# Quotes, a backslash, a brace and non-ASCII: the body template must carry them intact.
PASSWORD = 'old "system" pa\\ss {{email}} ünï-42'
PASSTHROUGH_CODE = "ptc-7d1e9f0a-shared-with-the-old-system"
PASSBACK_CODE = "pbc-3a51c2e8-returned-by-the-old-system"
HEADER_SECRET = "hdr-secret-5be0c3"


@dataclass
class Upstream:
    """The old login service: answers each request with `reply` (status, JSON body,
    delay in seconds), or a computed reply from `judge`; records every request."""

    reply: tuple[int, Any, float] = (200, {"ok": True}, 0.0)
    judge: Any = None
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/login"

    def calls(self) -> int:
        with self.lock:
            return len(self.received)

    def last(self) -> dict[str, Any]:
        with self.lock:
            return self.received[-1]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    state = Upstream()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = {
                "method": self.command,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "raw": raw,
            }
            with state.lock:
                state.received.append(request)
            status, body, delay = state.judge(request) if state.judge else state.reply
            time.sleep(delay)
            answer = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = int(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def admin_key(workspace) -> str:
    return str(workspace.key("test", "admin"))


@pytest.fixture
def tenant(base_url: str, admin_key: str) -> str:
    """A tenant per test: passthrough settings and limits differ from test to test."""
    return new_tenant(base_url, admin_key, name="Passthrough", settings=_limits(50))


@pytest.fixture(scope="module")
def settings_tenant(base_url: str, admin_key: str) -> str:
    """One tenant for the tests whose settings changes are all refused."""
    return new_tenant(base_url, admin_key, name="Passthrough settings")


@pytest.fixture(scope="module")
def live_tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("live", "admin"), name="Live passthrough")


def _limits(attempts: int) -> dict[str, Any]:
    return {"rateLimits": {"attemptsPerAccount": {"limit": attempts, "windowSeconds": 900}}}


def configure(client: httpx.Client, key: str, tenant: str, **settings: Any) -> dict[str, Any]:
    response = client.put(
        f"/v0/tenants/{tenant}/auth/passthrough", json=settings, headers=bearer(key)
    )
    assert response.status_code == 200, response.text
    conforms(response)  # the answer is what docs/openapi.json declares
    return dict(response.json())


def full_settings(upstream: Upstream, **extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "url": upstream.url,
        "headers": {"X-Api-Key": HEADER_SECRET},
        "bodyTemplate": {
            "login": {"email": "{{email}}", "name": "{{emailOrUsername}}"},
            "secret": "{{password}}",
            "code": "{{passthroughCode}}",
            "kind": "portcullis",
        },
        "passthroughCode": PASSTHROUGH_CODE,
        "passbackCode": PASSBACK_CODE,
        **extra,
    }


def imported_user(client: httpx.Client, key: str, tenant: str, **fields: Any) -> dict[str, Any]:
    """A user as an import leaves it: no password."""
    body = {"email": unique_email("migrating"), **fields}
    response = client.post(f"/v0/tenants/{tenant}/users", json=body, headers=bearer(key))
    assert response.status_code == 200, response.text
    return dict(response.json())


def migrate(client: httpx.Client, tenant: str, identifier: str, password: str) -> httpx.Response:
    return client.post(
        f"/v0/tenants/{tenant}/auth/password/migrate",
        json={"emailOrUsername": identifier, "password": password},
    )


def basic(client: httpx.Client, tenant: str, identifier: str, password: str) -> httpx.Response:
    return client.post(
        f"/v0/tenants/{tenant}/auth/basic",
        json={"emailOrUsername": identifier, "password": password},
    )


def table_item(client: httpx.Client, pk: str, sk: str) -> dict[str, Any]:
    """One item of the runtime's table, read from its moto (what a dump would show)."""
    env = client.get("/_local/environment").json()
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    found = dynamodb.get_item(TableName=env["TABLE_NAME"], Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return dict(found.get("Item") or {})


def stored_user(client: httpx.Client, tenant: str, user_id: int) -> dict[str, Any]:
    return table_item(client, f"USERS#test#{tenant}", f"USER#{user_id:012d}")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ------------------------------------------------------------------ the settings API


def test_settings_are_read_with_secrets_masked_and_stored_sealed(
    client, admin_key, tenant, upstream
) -> None:
    path = f"/v0/tenants/{tenant}/auth/passthrough"
    empty = client.get(path, headers=bearer(admin_key))
    assert empty.status_code == 200, empty.text
    conforms(empty)
    assert empty.json()["enabled"] is False and empty.json()["url"] is None

    saved = configure(client, admin_key, tenant, **full_settings(upstream))
    assert saved["headers"] == {"X-Api-Key": "********"}
    assert saved["passthroughCode"] == "********"
    assert saved["passbackCode"] == "********"
    assert saved["method"] == "POST" and saved["timeoutMs"] == 5000
    assert saved["createOnPassthrough"] is False
    assert client.get(path, headers=bearer(admin_key)).json() == saved
    text = json.dumps(saved)
    for secret in (HEADER_SECRET, PASSTHROUGH_CODE, PASSBACK_CODE):
        assert secret not in text

    item = table_item(client, f"TENANT#test#{tenant}", "PASSTHROUGH")
    dump = json.dumps(item)
    assert item["sealed"]["S"]
    for secret in (HEADER_SECRET, PASSTHROUGH_CODE, PASSBACK_CODE):
        assert secret not in dump  # a dump of the table reveals none of them

    # The masked read sent back keeps the secrets; a change merges.
    again = configure(client, admin_key, tenant, **{**saved, "timeoutMs": 2500})
    assert again["timeoutMs"] == 2500 and again["headers"] == {"X-Api-Key": "********"}
    assert again["passthroughCode"] == "********"

    removed = client.delete(path, headers=bearer(admin_key))
    assert removed.status_code == 200 and removed.json()["enabled"] is False
    conforms(removed)
    assert client.get(path, headers=bearer(admin_key)).json()["passthroughCode"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"enabled": True}, '"url" is required'),
        ({"url": "http://10.1.2.3/login"}, '"url" must not target a non-public address'),
        ({"url": "http://169.254.169.254/latest"}, '"url" must not target a non-public address'),
        ({"url": "ftp://example.com/x"}, '"url"'),
        ({"bodyTemplate": {"user": "{{email}}"}}, '"bodyTemplate" must contain {{password}}'),
        ({"bodyTemplate": {"p": "{{password}}", "x": "{{secret}}"}}, "unknown placeholder"),
        ({"timeoutMs": 60_000}, '"timeoutMs"'),
        ({"headers": {"Host": "evil.example"}}, '"headers.Host"'),
        ({"headers": {"X-A": "line\r\nInjected: 1"}}, '"headers.X-A"'),
        ({"successStatus": [302]}, '"successStatus[0]"'),
        ({"preset": "cognito"}, '"cognito" is required'),
        ({"surprise": 1}, '"surprise" is not allowed'),
        ({}, "At least one field is required"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    client, admin_key, settings_tenant, change, message
) -> None:
    response = client.put(
        f"/v0/tenants/{settings_tenant}/auth/passthrough", json=change, headers=bearer(admin_key)
    )
    body = error(response, 400)
    assert message in body["message"], body


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/login", '"url" must be an https URL in live mode'),
        ("https://127.0.0.1/login", '"url" must not target a non-public address'),
        ("https://localhost/login", '"url" must not target localhost'),
    ],
)
def test_live_mode_needs_a_public_https_upstream(
    client, workspace, live_tenant, url, message
) -> None:
    live_key = workspace.key("live", "admin")
    response = client.put(
        f"/v0/tenants/{live_tenant}/auth/passthrough", json={"url": url}, headers=bearer(live_key)
    )
    assert message in error(response, 400)["message"]


def test_settings_need_an_admin_of_the_tenant(client, workspace, settings_tenant) -> None:
    path = f"/v0/tenants/{settings_tenant}/auth/passthrough"
    readonly = workspace.key("test", "readonly")
    assert client.get(path, headers=bearer(readonly)).status_code == 403
    put = client.put(path, json={"enabled": False}, headers=bearer(readonly))
    assert put.status_code == 403
    assert client.get(path).status_code == 401


# ------------------------------------------------------------------ log-in


def test_a_user_without_a_hash_migrates_and_never_asks_the_upstream_again(
    client, admin_key, tenant, upstream
) -> None:
    upstream.reply = (200, {"passbackCode": PASSBACK_CODE, "plan": "gold"}, 0.0)
    configure(client, admin_key, tenant, **full_settings(upstream))
    user = imported_user(client, admin_key, tenant)

    response = migrate(client, tenant, user["email"].upper(), PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["userId"] == user["userId"] and body["tokens"]["access"]["value"]
    assert body["upstreamResponse"] == {"passbackCode": PASSBACK_CODE, "plan": "gold"}
    assert "firstFactorToken" not in body

    sent = upstream.last()
    assert sent["method"] == "POST"
    assert sent["headers"]["content-type"] == "application/json"
    assert sent["headers"]["x-api-key"] == HEADER_SECRET
    assert json.loads(sent["raw"]) == {
        "login": {"email": user["email"], "name": user["email"].upper()},
        "secret": PASSWORD,
        "code": PASSTHROUGH_CODE,
        "kind": "portcullis",
    }

    record = stored_user(client, tenant, user["userId"])
    assert record["passwordHash"]["S"].startswith("$argon2id$")
    assert record["passwordMigratedAt"]["S"].endswith("Z")
    assert PASSWORD not in json.dumps(record)

    calls = upstream.calls()
    upstream.reply = (500, {}, 0.0)  # the old system is gone: no longer needed
    again = basic(client, tenant, user["email"], PASSWORD)
    assert again.status_code == 200, again.text
    assert "upstreamResponse" not in again.json()
    error(basic(client, tenant, user["email"], "another-password-1"), 400, INCORRECT)
    error(migrate(client, tenant, user["email"], "another-password-1"), 400, INCORRECT)
    assert upstream.calls() == calls


def test_password_log_in_also_migrates_without_upstream_response(
    client, admin_key, tenant, upstream
) -> None:
    configure(
        client,
        admin_key,
        tenant,
        enabled=True,
        url=upstream.url,
        bodyFormat="form",
        bodyTemplate={"user": "{{emailOrUsername}}", "pw": "{{password}}"},
        method="PUT",
    )
    user = imported_user(client, admin_key, tenant, username=f"u{int(time.time() * 1000)}")
    response = basic(client, tenant, user["username"], PASSWORD)
    assert response.status_code == 200, response.text
    assert "upstreamResponse" not in response.json()
    sent = upstream.last()
    assert sent["method"] == "PUT"
    assert sent["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent["raw"].decode()) == {"user": [user["username"]], "pw": [PASSWORD]}


def test_the_legacy_path_takes_the_tenant_from_the_body(
    client, admin_key, tenant, upstream
) -> None:
    configure(client, admin_key, tenant, enabled=True, url=upstream.url)
    user = imported_user(client, admin_key, tenant)
    response = client.post(
        "/v0/auth/password/migrate",
        json={"emailOrUsername": user["email"], "password": PASSWORD, "tenantId": tenant},
    )
    assert response.status_code == 200, response.text
    assert response.json()["upstreamResponse"] == {"ok": True}
    error(
        client.post("/v0/auth/password/migrate", json={"emailOrUsername": "a", "password": "b"}),
        400,
        "tenantId is required",
    )


def test_an_upstream_refusal_shows_its_message_and_counts_as_an_attempt(
    client, admin_key, base_url, upstream
) -> None:
    tenant = new_tenant(base_url, admin_key, name="Refusals", settings=_limits(3))
    configure(client, admin_key, tenant, enabled=True, url=upstream.url, messagePath="error.detail")
    user = imported_user(client, admin_key, tenant)
    upstream.reply = (401, {"error": {"detail": "Wrong password\n(old system)"}}, 0.0)
    error(migrate(client, tenant, user["email"], PASSWORD), 400, "Wrong password (old system)")
    upstream.reply = (403, {"message": "no detail here"}, 0.0)
    error(basic(client, tenant, user["email"], PASSWORD), 400, INCORRECT)
    upstream.reply = (200, {"ok": True}, 0.0)
    configure(client, admin_key, tenant, successStatus=[201])  # a 200 is now a refusal
    error(migrate(client, tenant, user["email"], PASSWORD), 400, INCORRECT)
    # Three failures used the account's budget: the fourth attempt is refused unasked.
    calls = upstream.calls()
    limited = migrate(client, tenant, user["email"], PASSWORD)
    error(limited, 429)
    assert upstream.calls() == calls
    assert "passwordHash" not in stored_user(client, tenant, user["userId"])


def test_a_missing_or_wrong_passback_code_is_a_refusal(client, admin_key, tenant, upstream) -> None:
    configure(client, admin_key, tenant, **full_settings(upstream))
    user = imported_user(client, admin_key, tenant)
    for answer in ({"ok": True}, {"passbackCode": "guess"}, {"passbackCode": 12}, ["x"]):
        upstream.reply = (200, answer, 0.0)
        error(migrate(client, tenant, user["email"], PASSWORD), 400, INCORRECT)
    assert "passwordHash" not in stored_user(client, tenant, user["userId"])


def test_an_unreachable_upstream_is_a_502_that_never_locks_the_account(
    client, admin_key, base_url, upstream
) -> None:
    tenant = new_tenant(base_url, admin_key, name="Outage", settings=_limits(3))
    user = imported_user(client, admin_key, tenant)
    configure(
        client, admin_key, tenant, enabled=True, url=f"http://127.0.0.1:{closed_port()}/login"
    )
    for _ in range(4):  # one more than the account's budget
        error(migrate(client, tenant, user["email"], PASSWORD), 502, UNREACHABLE)
    configure(client, admin_key, tenant, url=upstream.url)
    upstream.reply = (503, {"message": "maintenance"}, 0.0)
    error(basic(client, tenant, user["email"], PASSWORD), 502, UNREACHABLE)
    # An upstream slower than the tenant's timeout: it would say yes after 10 s, so only
    # the 500 ms timeout explains a 502 here (no wall-clock assertion: load makes those lie).
    upstream.reply = (200, {"ok": True}, 10.0)
    configure(client, admin_key, tenant, timeoutMs=500)
    error(migrate(client, tenant, user["email"], PASSWORD), 502, UNREACHABLE)
    # None of it counted: the right password still signs in (and migrates).
    upstream.reply = (200, {"ok": True}, 0.0)
    assert migrate(client, tenant, user["email"], PASSWORD).status_code == 200


def test_unknown_users_answer_as_before_unless_creation_is_on(
    client, admin_key, tenant, upstream
) -> None:
    configure(client, admin_key, tenant, enabled=True, url=upstream.url)
    stranger = unique_email("stranger")
    unknown = migrate(client, tenant, stranger, PASSWORD)
    known = sign_up(client, tenant)  # has a hash: the upstream is never asked for it
    wrong = migrate(client, tenant, known["email"], PASSWORD)
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())
    assert upstream.calls() == 0

    configure(client, admin_key, tenant, createOnPassthrough=True)
    created = migrate(client, tenant, stranger, PASSWORD)
    assert created.status_code == 200, created.text
    assert created.json()["email"] == stranger
    assert upstream.calls() == 1
    assert basic(client, tenant, stranger, PASSWORD).status_code == 200
    assert upstream.calls() == 1


def test_disconnected_passthrough_is_the_plain_no_password_answer(
    client, admin_key, tenant, upstream
) -> None:
    configure(client, admin_key, tenant, enabled=False, url=upstream.url)
    user = imported_user(client, admin_key, tenant)
    response = client.post(
        f"/v0/tenants/{tenant}/auth/password/migrate",
        json={
            "emailOrUsername": user["email"],
            "password": PASSWORD,
            "options": {"noResetEmail": True},
        },
    )
    assert error(response, 400, INCORRECT)["error"]["type"] == "intended_error"
    assert upstream.calls() == 0


# ------------------------------------------------------------------ other answers


def test_upstream_response_also_comes_with_mfa_required_and_pkce_answers(
    client, admin_key, base_url, upstream
) -> None:
    second = {"strategy": "totp", "channel": "authenticator"}
    factors = {"firstFactors": ALL_FIRST_FACTORS, "secondFactors": [second]}
    tenant = new_tenant(
        base_url, admin_key, name="Passthrough MFA", settings={"authentication": factors}
    )
    upstream.reply = (200, {"plan": "gold", "legacyId": 42}, 0.0)
    configure(client, admin_key, tenant, enabled=True, url=upstream.url)

    guarded = imported_user(client, admin_key, tenant, isMfaRequired=True)
    first = migrate(client, tenant, guarded["email"], PASSWORD)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["message"] == "MFA required" and body["firstFactorToken"]
    assert "tokens" not in body
    assert body["upstreamResponse"] == {"plan": "gold", "legacyId": 42}

    native = imported_user(client, admin_key, tenant)
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    pkce = client.post(
        f"/v0/tenants/{tenant}/auth/password/migrate",
        params={"code_challenge": challenge},
        json={"emailOrUsername": native["email"], "password": PASSWORD},
    )
    assert pkce.status_code == 200, pkce.text
    answer = pkce.json()
    assert answer["message"] == "PKCE required" and answer["authorizationCode"]
    assert answer["upstreamResponse"] == {"plan": "gold", "legacyId": 42}
    assert stored_user(client, tenant, native["userId"])["passwordHash"]["S"].startswith("$argon2")
    # The plain password log-in still answers without it (returnUpstreamResponse).
    other = imported_user(client, admin_key, tenant)
    plain = client.post(
        f"/v0/tenants/{tenant}/auth/basic",
        params={"code_challenge": challenge},
        json={"emailOrUsername": other["email"], "password": PASSWORD},
    )
    assert plain.status_code == 200 and "upstreamResponse" not in plain.json()


# ------------------------------------------------------------------ per-day counts


WRITES = {"dynamodb:TransactWriteItems", "dynamodb:UpdateItem", "dynamodb:PutItem"}


def request_calls(client: httpx.Client, response: httpx.Response) -> list[str]:
    """The AWS calls the request's own thread made (`GET /_local/calls`,
    infra/local/calltrace.py)."""
    traced = client.get("/_local/calls", params={"requestId": response.headers["x-amzn-RequestId"]})
    assert traced.status_code == 200, traced.text
    return list(traced.json()["calls"])


def metrics(client: httpx.Client, key: str, tenant: str, **query: str) -> httpx.Response:
    answer = client.get(
        f"/v0/tenants/{tenant}/auth/passthrough/metrics", params=query, headers=bearer(key)
    )
    conforms(answer)
    return answer


def test_attempts_and_outcomes_are_counted_per_day(
    client, admin_key, tenant, settings_tenant, upstream
) -> None:
    configure(client, admin_key, tenant, enabled=True, url=upstream.url)
    user = imported_user(client, admin_key, tenant)
    upstream.reply = (401, {"message": "Wrong"}, 0.0)
    error(migrate(client, tenant, user["email"], PASSWORD), 400, "Wrong")
    upstream.reply = (503, {}, 0.0)
    error(basic(client, tenant, user["email"], PASSWORD), 502, UNREACHABLE)
    upstream.reply = (200, {"ok": True}, 0.0)
    assert migrate(client, tenant, user["email"], PASSWORD).status_code == 200
    assert basic(client, tenant, user["email"], PASSWORD).status_code == 200  # no upstream

    response = metrics(client, admin_key, tenant)
    assert response.status_code == 200, response.text
    body = response.json()
    counts = {"attempts": 3, "migrated": 1, "refused": 1, "unavailable": 1}
    assert body["totals"] == counts
    assert [day["date"] for day in body["days"]] == [body["to"]]
    assert body["days"][0] == {"date": body["to"], **counts}
    stored = table_item(client, f"TENANT#test#{tenant}", f"PTMETRICS#{body['to']}")
    assert int(stored["ttl"]["N"]) > time.time() + 300 * 86_400
    # A range without that day, and another tenant, count nothing.
    before = metrics(client, admin_key, tenant, to="2020-01-31", **{"from": "2020-01-01"})
    assert before.json()["days"] == [] and before.json()["totals"]["attempts"] == 0
    assert metrics(client, admin_key, settings_tenant).json()["days"] == []

    not_a_date = '"{}" must be a date (YYYY-MM-DD)'
    error(metrics(client, admin_key, tenant, to="2020-02-30"), 400, not_a_date.format("to"))
    error(
        metrics(client, admin_key, tenant, **{"from": "yesterday"}), 400, not_a_date.format("from")
    )
    error(metrics(client, admin_key, tenant, **{"from": "2020-02-02", "to": "2020-02-01"}), 400)
    error(metrics(client, admin_key, tenant, **{"from": "2019-01-01", "to": "2020-12-31"}), 400)


def test_a_user_created_on_passthrough_who_meets_mfa_is_counted_as_migrated(
    client, admin_key, base_url, upstream
) -> None:
    """The new user and its count are one write: "MFA required" (§1.5) is a migration
    too (the password was accepted and is now hashed here), whatever comes next."""
    second = {"strategy": "totp", "channel": "authenticator"}
    settings = {
        "authentication": {"firstFactors": ALL_FIRST_FACTORS, "secondFactors": [second]},
        "mfa": {"policy": "all"},
    }
    tenant = new_tenant(base_url, admin_key, name="Passthrough MFA count", settings=settings)
    configure(client, admin_key, tenant, enabled=True, url=upstream.url, createOnPassthrough=True)
    stranger = unique_email("mfa-stranger")
    first = migrate(client, tenant, stranger, PASSWORD)
    assert first.status_code == 200, first.text
    assert first.json()["message"] == "MFA required" and first.json()["firstFactorToken"]
    assert upstream.calls() == 1
    # The new userId (the sequence's ADD), then ONE write: the user, its guards, the
    # first-factor token and the count, nothing after it. (The account's attempt
    # counter is an UpdateItem too, on a worker thread the trace does not attribute.)
    writes = [c for c in request_calls(client, first) if c in WRITES]
    assert writes == ["dynamodb:UpdateItem", "dynamodb:TransactWriteItems"], writes

    counts = {"attempts": 1, "migrated": 1, "refused": 0, "unavailable": 0}
    assert metrics(client, admin_key, tenant).json()["totals"] == counts
    found = client.get(
        f"/v0/tenants/{tenant}/users", params={"email": stranger}, headers=bearer(admin_key)
    )
    assert found.status_code == 200, found.text
    (user,) = [u for u in found.json()["results"] if u["email"] == stranger]
    assert stored_user(client, tenant, user["userId"])["passwordHash"]["S"].startswith("$argon2")
    # The hash is local now: the next log-in never asks the upstream, and counts nothing.
    again = migrate(client, tenant, stranger, PASSWORD)
    assert again.status_code == 200 and again.json()["message"] == "MFA required"
    assert upstream.calls() == 1
    assert metrics(client, admin_key, tenant).json()["totals"] == counts
