"""Export (issue 12, "no lock-in"; docs/migration.md "Export"):
`GET /v0/tenants/{tenantId}/users/export` answers a tenant's users as JSON Lines in the
import row format, a page at a time, to an admin API key only; password hashes only when
the deployment allows it (`ExportPasswordHashes`, off here) and the request asks, each such
page audited on the event bus; `python -m portcullis.admin export-users` writes the same.

The hash-enabled cases run on a runtime of their own (`ExportPasswordHashes=true`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from accesskit import ok
from argon2 import PasswordHasher
from authkit import PASSWORD, bearer, log_in, tokens, unique_email, unique_phone

from infra.local.process import RuntimeProcess

EXPORT = "/v0/tenants/{}/users/export"
# What an export row may hold: the import row fields (api-server §1.10) and nothing else.
ROW_FIELDS = {
    "userId",
    "userUuid",
    "email",
    "username",
    "phoneNumber",
    "name",
    "image",
    "data",
    "locked",
    "isMfaRequired",
    "isEmailConfirmed",
    "isPhoneNumberConfirmed",
    "createdAt",
    "roles",
    "passwordHash",
}


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    text = response.text
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def export_all(http: httpx.Client, tenant: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every row, following `X-Next-Cursor` page after page."""
    rows: list[dict[str, Any]] = []
    query = dict(params)
    while True:
        response = http.get(EXPORT.format(tenant), params=query, headers=bearer(key))
        rows += lines(response)
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            return rows
        query["cursor"] = cursor


def tenant_with_users(http: httpx.Client, key: str) -> tuple[str, str, list[dict[str, Any]]]:
    """A child tenant, its admin key, and four users showing every exported field."""
    tenant = ok(http.post("/v0/tenants", json={"name": "Export"}, headers=bearer(key)))["tenantId"]
    admin = ok(
        http.post("/v0/keys", json={"type": "admin", "tenantId": tenant}, headers=bearer(key))
    )["key"]
    bodies: list[dict[str, Any]] = [
        {
            "email": unique_email("exp"),
            "username": f"exp{os.urandom(4).hex()}",
            "name": "Ex Port",
            "image": "https://example.com/ex.png",
            "phoneNumber": unique_phone(),
            "data": {"plan": "pro", "nested": {"a": [1, 2]}},
            "password": PASSWORD,
            "isEmailConfirmed": True,
            "isMfaRequired": True,
            "roles": ["member"],
        },
        {"email": unique_email("exp"), "locked": True},
        {"email": unique_email("exp"), "password": PASSWORD, "name": "Ünïcode ✓"},
        {"email": unique_email("exp")},
    ]
    path = f"/v0/tenants/{tenant}/users"
    made = [ok(http.post(path, json=body, headers=bearer(admin))) for body in bodies]
    return tenant, admin, made


def assert_row_matches(row: dict[str, Any], user: dict[str, Any]) -> None:
    assert set(row) <= ROW_FIELDS, set(row) - ROW_FIELDS
    for name in ("userId", "userUuid", "createdAt", "data", "locked", "isMfaRequired"):
        assert row[name] == user[name], name
    for name in ("isEmailConfirmed", "isPhoneNumberConfirmed"):
        assert row[name] == user[name], name
    for name in ("email", "username", "phoneNumber", "image"):
        assert row.get(name) == user[name], name
    assert row.get("name", "") == user["name"]
    roles = (user["authorization"].get(user["tenantId"]) or {}).get("roles") or []
    assert row.get("roles", []) == roles


@pytest.fixture(scope="module")
def exported(base_url: str, workspace: Any) -> tuple[str, str, list[dict[str, Any]]]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        return tenant_with_users(http, workspace.key("test", "admin"))


def test_export_answers_every_user_as_an_import_row_page_by_page(
    client: httpx.Client, exported: tuple[str, str, list[dict[str, Any]]]
) -> None:
    tenant, admin, made = exported
    first = client.get(EXPORT.format(tenant), params={"limit": 3}, headers=bearer(admin))
    assert len(lines(first)) == 3 and first.headers["x-export-count"] == "3"
    assert first.headers["cache-control"] == "no-store"
    rest = client.get(
        EXPORT.format(tenant),
        params={"limit": 3, "cursor": first.headers["x-next-cursor"]},
        headers=bearer(admin),
    )
    assert len(lines(rest)) == 1 and "x-next-cursor" not in rest.headers

    rows = export_all(client, tenant, admin, limit=2)
    assert [r["userId"] for r in rows] == sorted(u["userId"] for u in made)
    for row, user in zip(rows, sorted(made, key=lambda u: u["userId"]), strict=True):
        assert_row_matches(row, user)
        assert "passwordHash" not in row
    assert rows[0]["roles"] == ["member"]
    assert rows[0]["isMfaRequired"] is True and rows[1]["locked"] is True
    assert rows[2]["name"] == "Ünïcode ✓"


def test_an_empty_tenant_exports_nothing(client: httpx.Client, workspace: Any) -> None:
    key = workspace.key("live", "admin")
    tenant = ok(client.post("/v0/tenants", json={"name": "Empty"}, headers=bearer(key)))
    response = client.get(EXPORT.format(tenant["tenantId"]), headers=bearer(key))
    assert lines(response) == [] and "x-next-cursor" not in response.headers


def test_export_is_for_an_admin_key_of_the_tenant_only(
    client: httpx.Client, workspace: Any, exported: tuple[str, str, list[dict[str, Any]]]
) -> None:
    tenant, admin, _ = exported
    path = EXPORT.format(tenant)
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer("uf_test_admin_nope")).status_code == 401
    readonly = ok(
        client.post(
            "/v0/keys", json={"type": "readonly", "tenantId": tenant}, headers=bearer(admin)
        )
    )["key"]
    assert client.get(path, headers=bearer(readonly)).status_code == 403
    other = ok(client.post("/v0/tenants", json={"name": "Other"}, headers=bearer(admin)))
    # a child's admin key cannot reach its parent; the parent's reaches the child
    child_key = ok(
        client.post(
            "/v0/keys", json={"type": "admin", "tenantId": other["tenantId"]}, headers=bearer(admin)
        )
    )["key"]
    assert client.get(path, headers=bearer(child_key)).status_code == 403
    assert client.get(EXPORT.format(other["tenantId"]), headers=bearer(admin)).status_code == 200
    assert client.get(EXPORT.format("NOT_A_ID"), headers=bearer(admin)).status_code == 404
    # an admin's access token is enough for other admin routes, not for an export
    body = {"email": unique_email("adm"), "password": PASSWORD, "roles": ["admin"]}
    user = ok(client.post(f"/v0/tenants/{tenant}/users", json=body, headers=bearer(admin)))
    token = tokens(ok(log_in(client, tenant, user["email"])))[0]
    assert client.get(f"/v0/tenants/{tenant}/users", headers=bearer(token)).status_code == 200
    assert client.get(path, headers=bearer(token)).status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, '"limit" must be between 1 and 1000'),
        ({"limit": "1001"}, '"limit" must be between 1 and 1000'),
        ({"limit": "ten"}, '"limit"'),
        ({"cursor": "../1"}, '"cursor" is not a cursor this export returned'),
        ({"cursor": "9" * 40}, '"cursor" is not a cursor this export returned'),
        ({"includePasswordHashes": "yes"}, '"includePasswordHashes" must be a boolean'),
    ],
)
def test_bad_query_parameters_are_named(
    client: httpx.Client,
    exported: tuple[str, str, list[dict[str, Any]]],
    params: dict[str, str],
    message: str,
) -> None:
    tenant, admin, _ = exported
    response = client.get(EXPORT.format(tenant), params=params, headers=bearer(admin))
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(message)


def test_hashes_stay_in_unless_the_deployment_allows_them(
    client: httpx.Client, exported: tuple[str, str, list[dict[str, Any]]]
) -> None:
    tenant, admin, _ = exported
    response = client.get(
        EXPORT.format(tenant), params={"includePasswordHashes": "true"}, headers=bearer(admin)
    )
    assert response.status_code == 403
    assert "ExportPasswordHashes" in response.json()["message"]
    assert "argon2" not in response.text


# ------------------------------------------------------------- deployment allows hashes


@pytest.fixture(scope="module")
def hashes_allowed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    data_dir: Path = tmp_path_factory.mktemp("portcullis-export")
    with RuntimeProcess(data_dir, parameters={"ExportPasswordHashes": "true"}) as process:
        yield process


def audit_events(http: httpx.Client, tenant: str) -> list[dict[str, Any]]:
    found = ok(http.get("/_local/events", params={"detailType": "export.passwordHashes"}))
    return [e for e in found if e["detail"]["tenantId"] == tenant]  # type: ignore[index]


def operator_export(
    http: httpx.Client, *args: str, allow: bool
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **ok(http.get("/_local/environment"))}
    environment.pop("EXPORT_PASSWORD_HASHES", None)
    if allow:
        environment["EXPORT_PASSWORD_HASHES"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "portcullis.admin", "export-users", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_hashes_when_allowed_and_asked_are_audited_and_verify(
    hashes_allowed: RuntimeProcess,
) -> None:
    assert hashes_allowed.workspace is not None
    key = hashes_allowed.workspace.key("test", "admin")
    with httpx.Client(base_url=hashes_allowed.base_url, timeout=60) as http:
        tenant, admin, made = tenant_with_users(http, key)
        assert all("passwordHash" not in r for r in export_all(http, tenant, admin))
        assert audit_events(http, tenant) == []  # no hashes, nothing to audit

        rows = export_all(http, tenant, admin, includePasswordHashes="true", limit=3)
        by_id = {r["userId"]: r for r in rows}
        with_password = [made[0]["userId"], made[2]["userId"]]
        for user_id in with_password:
            stored = by_id[user_id]["passwordHash"]
            assert stored.startswith("$argon2id$")
            assert PasswordHasher().verify(stored, PASSWORD)
        assert "passwordHash" not in by_id[made[1]["userId"]]
        assert "passwordHash" not in by_id[made[3]["userId"]]

        audited = audit_events(http, tenant)
        assert sorted(e["detail"]["count"] for e in audited) == [1, 3]
        for event in audited:
            detail = event["detail"]
            assert detail["mode"] == "test" and detail["caller"].startswith("apikey:")
            assert detail["occurredAt"].endswith("Z")
            assert "argon2" not in json.dumps(event)

        # The operator command writes the same lines; hashes need the switch and the flag.
        plain = operator_export(http, "--tenant", tenant, "--mode", "test", allow=False)
        assert plain.returncode == 0, plain.stderr
        assert [json.loads(line) for line in plain.stdout.splitlines()] == [
            {k: v for k, v in r.items() if k != "passwordHash"} for r in rows
        ]
        args = ("--tenant", tenant, "--mode", "test", "--include-password-hashes")
        refused = operator_export(http, *args, allow=False)
        assert refused.returncode == 1 and refused.stdout == ""
        assert "disabled" in refused.stderr
        full = operator_export(http, *args, allow=True)
        assert full.returncode == 0, full.stderr
        assert [json.loads(line) for line in full.stdout.splitlines()] == rows
        assert "Exported 4 users" in full.stderr
        operator = [e for e in audit_events(http, tenant) if e["detail"]["count"] == 4]
        assert len(operator) == 1 and operator[0]["detail"]["caller"].startswith("operator:")
        missing = operator_export(http, "--tenant", "zzzz9999", "--mode", "test", allow=True)
        assert missing.returncode == 1 and "No tenant" in missing.stderr
