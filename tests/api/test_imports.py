"""User imports over HTTP (api-server §10, §1.10; concepts §7.4): create inline or by
upload, process through the import worker (SQS → Lambda in the local runtime), read,
list and delete; imported users sign in with their imported passwords and TOTP secrets.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import bcrypt
import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from authkit import (
    PASSWORD,
    bearer,
    claims,
    error,
    link_params,
    log_in,
    new_tenant,
    outbox,
    tokens,
    unique_email,
)
from conformance import conforms
from test_users_support import events_for, wait_for

TOTP = {"strategy": "totp", "channel": "authenticator"}


@pytest.fixture(scope="module")
def key(workspace) -> str:
    return str(workspace.key("test", "admin"))


@pytest.fixture(scope="module")
def tenant(base_url: str, key: str) -> str:
    """A tenant with TOTP as a second factor and an `importer` role."""
    tenant_id = new_tenant(
        base_url, key, {"authentication": {"secondFactors": [TOTP]}}, name="Imports"
    )
    with httpx.Client(base_url=base_url, timeout=30) as http:
        made = http.post(
            f"/v0/tenants/{tenant_id}/roles", json={"name": "importer"}, headers=bearer(key)
        )
        assert made.status_code == 200, made.text
    return tenant_id


def _call(
    client: httpx.Client, key: str, method: str, path: str, body: Any = None
) -> httpx.Response:
    return client.request(method, path, json=body, headers=bearer(key))


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    conforms(response)  # the answer is what docs/openapi.json declares
    body: dict[str, Any] = response.json()
    return body


def _create(client: httpx.Client, key: str, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    return _ok(_call(client, key, "POST", f"/v0/tenants/{tenant}/imports", body))


def _finished(client: httpx.Client, key: str, tenant: str, import_id: str) -> dict[str, Any]:
    """Poll the import until the worker has finished it (the queue is polled locally)."""
    deadline = time.monotonic() + 60
    while True:
        job = _ok(_call(client, key, "GET", f"/v0/tenants/{tenant}/imports/{import_id}"))
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def _run(client: httpx.Client, key: str, tenant: str, users: list[Any], **options: Any) -> dict:
    job = _create(client, key, tenant, {"users": users, "options": {"process": True, **options}})
    assert job["status"] in ("processing", "completed"), job
    done = _finished(client, key, tenant, job["importId"])
    assert done["status"] == "completed", done
    return done


def _user(client: httpx.Client, key: str, tenant: str, user_id: int) -> dict[str, Any]:
    return _ok(_call(client, key, "GET", f"/v0/tenants/{tenant}/users/{user_id}"))


def _password_login(client: httpx.Client, tenant: str, email: str, password: str) -> dict:
    response = log_in(client, tenant, email, password)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ------------------------------------------------------------------ inline → users


def test_inline_import_creates_users_who_sign_in(client, key, tenant) -> None:
    hashed_email, plain_email, totp_email = unique_email(), unique_email(), unique_email()
    bcrypt_email = unique_email()
    secret = pyotp.random_base32()
    user_id = 700_000 + uuid.uuid4().int % 100_000
    rows = [
        {
            "userId": user_id,
            "email": hashed_email,
            "username": f"imp{user_id}",
            "name": "Imported Hash",
            "data": {"plan": "pro"},
            "roles": ["importer"],
            "createdAt": "2019-03-04T05:06:07.000Z",
            "isEmailConfirmed": True,
            # A hash made elsewhere (argon2id with other parameters than ours).
            "passwordHash": PasswordHasher(time_cost=3, memory_cost=8192).hash("imported-pw-1"),
        },
        {"email": plain_email, "password": PASSWORD, "name": "Plain"},
        # bcrypt from its reference library, verified natively at log-in.
        {
            "email": bcrypt_email,
            "passwordHash": bcrypt.hashpw(b"bcrypt-pw-1", bcrypt.gensalt(4)).decode(),
        },
        {"email": totp_email, "password": PASSWORD, "totpSecret": secret, "isMfaRequired": True},
    ]
    job = _run(client, key, tenant, rows)
    assert (job["totalCount"], job["processedCount"]) == (4, 4)
    assert (job["createdCount"], job["updatedCount"], job["errorCount"]) == (4, 0, 0)
    assert job["errors"] == [] and job["startedAt"] and job["completedAt"]
    assert job["options"]["updateExisting"] is True and job["options"]["sendEmails"] is False

    user = _user(client, key, tenant, user_id)
    assert user["email"] == hashed_email and user["username"] == f"imp{user_id}"
    assert user["name"] == "Imported Hash" and user["data"] == {"plan": "pro"}
    assert user["createdAt"] == "2019-03-04T05:06:07.000Z"
    assert user["isEmailConfirmed"] is True
    assert user["authorization"][tenant]["roles"] == ["importer"]
    # The webhook event of each created user went out through the outbox.
    assert events_for(client_api(client), "user.create", email=hashed_email)

    signed_in = _password_login(client, tenant, hashed_email, "imported-pw-1")
    assert signed_in["tokens"]["access"]["value"]
    error(log_in(client, tenant, hashed_email, "wrong-password-1"), 400)
    _password_login(client, tenant, plain_email, PASSWORD)
    error(log_in(client, tenant, bcrypt_email, "bcrypt-pw-2"), 400)
    _password_login(client, tenant, bcrypt_email, "bcrypt-pw-1")
    _password_login(client, tenant, bcrypt_email, "bcrypt-pw-1")  # now as argon2id

    # The imported TOTP secret is the user's authenticator at once: MFA with pyotp.
    first = _password_login(client, tenant, totp_email, PASSWORD)
    assert first["message"] == "MFA required", first
    answer = client.post(
        f"/v0/tenants/{tenant}/auth/totp",
        json={"totpCode": pyotp.TOTP(secret).now()},
        headers=bearer(first["firstFactorToken"]),
    )
    assert answer.status_code == 200, answer.text
    assert tokens(answer.json())[0]


def client_api(client: httpx.Client) -> Any:
    def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        return client.request(method, path, **kwargs)

    return call


def test_existing_users_are_updated_or_reported(client, key, tenant) -> None:
    email = unique_email()
    made = _ok(_call(client, key, "POST", f"/v0/tenants/{tenant}/users", {"email": email}))
    refused = _run(
        client, key, tenant, [{"email": email, "name": "New name"}], updateExisting=False
    )
    assert (refused["createdCount"], refused["updatedCount"], refused["errorCount"]) == (0, 0, 1)
    assert refused["errors"] == [
        {"index": 0, "userId": None, "email": email, "message": "User already exists"}
    ]
    assert _user(client, key, tenant, made["userId"])["name"] == ""

    updated = _run(client, key, tenant, [{"email": email, "name": "New name"}])
    assert (updated["createdCount"], updated["updatedCount"]) == (0, 1)
    by_id = _run(client, key, tenant, [{"userId": made["userId"], "roles": ["importer"]}])
    assert by_id["updatedCount"] == 1
    user = _user(client, key, tenant, made["userId"])
    assert user["name"] == "New name" and user["createdAt"] == made["createdAt"]
    assert user["authorization"][tenant]["roles"] == ["importer"]


# ------------------------------------------------------------------ validation


def test_row_errors_are_recorded_with_their_index(client, key, tenant) -> None:
    good, twice = unique_email(), unique_email()
    rows: list[Any] = [
        {"email": "not-an-email"},
        {"email": twice},
        {"email": twice.upper()},
        {"email": unique_email(), "password": PASSWORD, "passwordHash": "$2b$10$x"},
        {"email": unique_email(), "roles": ["no-such-role"]},
        {"email": unique_email(), "favouriteColour": "blue"},
        {"email": unique_email(), "passwordHash": "md5:abc"},
        "not an object",
        {"email": good, "userId": 12},
    ]
    job = _create(client, key, tenant, {"users": rows})
    assert job["status"] == "created" and job["totalCount"] == 9
    assert job["errorCount"] == 7
    by_index = {e["index"]: e for e in job["errors"]}
    assert sorted(by_index) == [0, 2, 3, 4, 5, 6, 7]
    assert by_index[0]["message"] == '"email" must be a valid email'
    assert by_index[2]["message"] == '"email" is duplicated in the file (row 1)'
    assert by_index[2]["email"] == twice.upper()
    assert by_index[3]["message"] == '"password" and "passwordHash" cannot both be set'
    assert by_index[4]["message"] == 'Role "no-such-role" does not exist'
    assert by_index[5]["message"] == '"favouriteColour" is not allowed'
    assert by_index[6]["message"].startswith('"passwordHash"')
    assert by_index[7]["message"] == '"users[7]" must be an object'

    processed = _ok(
        _call(client, key, "POST", f"/v0/tenants/{tenant}/imports/{job['importId']}/process")
    )
    assert processed["status"] in ("processing", "completed")
    done = _finished(client, key, tenant, job["importId"])
    assert done["status"] == "completed"
    assert (done["processedCount"], done["createdCount"], done["errorCount"]) == (9, 2, 7)
    assert [e["index"] for e in done["errors"]] == [0, 2, 3, 4, 5, 6, 7]
    # Processing again: the job is finished.
    error(
        _call(client, key, "POST", f"/v0/tenants/{tenant}/imports/{job['importId']}/process"),
        400,
        "Import has already been processed",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"users": [{"email": "a@example.com"}] * 5001}, '"users" must contain at most 5000 items'),
        ({"users": []}, '"users" must contain at least 1 items'),
        ({}, '"users" is required'),
        ({"users": [{}], "options": {"updateExisting": "no"}}, None),
        ({"users": [{}], "source": "ldap"}, None),
        ({"upload": {"format": "xml", "size": 10}}, None),
        ({"upload": {"format": "csv", "size": 100 * 1024 * 1024 + 1}}, None),
    ],
)
def test_malformed_envelopes_are_400(client, key, tenant, body, message) -> None:
    answer = error(_call(client, key, "POST", f"/v0/tenants/{tenant}/imports", body), 400, message)
    assert answer["message"].startswith('"')


def test_a_body_over_5_mib_is_413(client, key, tenant) -> None:
    rows = [{"email": f"u{n}@example.com", "name": "x" * 190} for n in range(4000)]
    rows[0]["data"] = {"blob": "y" * (5 * 1024 * 1024)}
    error(_call(client, key, "POST", f"/v0/tenants/{tenant}/imports", {"users": rows}), 413)


# ------------------------------------------------------------------ lifecycle


def test_list_read_and_delete(client, key, tenant) -> None:
    first = _create(client, key, tenant, {"users": [{"email": unique_email()}]})
    second = _create(client, key, tenant, {"users": [{"email": unique_email()}]})
    listed = _ok(_call(client, key, "GET", f"/v0/tenants/{tenant}/imports?status=created"))
    ids = [job["importId"] for job in listed["results"]]
    assert ids.index(second["importId"]) < ids.index(first["importId"])  # newest first
    assert all("errors" not in job and job["status"] == "created" for job in listed["results"])
    assert listed["totalCount"] >= 2 and listed["totalPages"] >= 1
    paged = _ok(_call(client, key, "GET", f"/v0/tenants/{tenant}/imports?status=created&limit=1"))
    assert len(paged["results"]) == 1 and paged["totalPages"] == paged["totalCount"]
    error(_call(client, key, "GET", f"/v0/tenants/{tenant}/imports?status=done"), 400)

    deleted = _ok(_call(client, key, "DELETE", f"/v0/tenants/{tenant}/imports/{first['importId']}"))
    assert deleted["importId"] == first["importId"]
    path = f"/v0/tenants/{tenant}/imports/{first['importId']}"
    error(_call(client, key, "GET", path), 404, "Import not found")
    error(_call(client, key, "DELETE", path), 404, "Import not found")
    error(_call(client, key, "GET", f"/v0/tenants/{tenant}/imports/not-a-uuid"), 404)


def test_deleting_a_processing_import_is_409_and_keeps_users(client, key, tenant) -> None:
    # Plain passwords are hashed (argon2id) as rows apply: a chunk takes seconds. On a
    # loaded machine the worker may still win the race to the DELETE; then the job was
    # already finished (the DELETE removed a completed import) and a new one is tried.
    for _ in range(5):
        rows = [{"email": unique_email(), "password": PASSWORD} for _ in range(20)]
        job = _create(client, key, tenant, {"users": rows, "options": {"process": True}})
        path = f"/v0/tenants/{tenant}/imports/{job['importId']}"
        refused = _call(client, key, "DELETE", path)
        if refused.status_code == 409:
            break
        assert _ok(refused)["status"] == "completed", refused.text
    error(refused, 409, "Import is processing")
    done = _finished(client, key, tenant, job["importId"])
    assert done["createdCount"] == 20
    _ok(_call(client, key, "DELETE", path))
    _password_login(client, tenant, rows[0]["email"], PASSWORD)  # the users stay


def test_account_level_aliases_and_tenant_isolation(client, key, base_url, workspace) -> None:
    home = workspace.tenant_id
    job = _ok(_call(client, key, "POST", "/v0/imports", {"users": [{"email": unique_email()}]}))
    assert job["tenantId"] == home
    path = f"/v0/imports/{job['importId']}"
    assert _ok(_call(client, key, "GET", path))["importId"] == job["importId"]
    assert job["importId"] in [
        j["importId"] for j in _ok(_call(client, key, "GET", "/v0/imports"))["results"]
    ]

    # A child tenant's admin key never reaches its ancestor's imports...
    child = new_tenant(base_url, key, name="Import child")
    made = _ok(_call(client, key, "POST", "/v0/keys", {"type": "admin", "tenantId": child}))
    child_key = made["key"]
    error(_call(client, child_key, "GET", f"/v0/tenants/{home}/imports/{job['importId']}"), 403)
    error(_call(client, child_key, "DELETE", f"/v0/tenants/{home}/imports/{job['importId']}"), 403)
    error(_call(client, child_key, "GET", f"/v0/tenants/{home}/imports"), 403)
    # ... and under its own tenant the ancestor's job does not exist.
    error(_call(client, child_key, "GET", path), 404, "Import not found")
    error(_call(client, child_key, "GET", f"/v0/tenants/{child}/imports/{job['importId']}"), 404)
    # A read-only key reads but never creates, processes or deletes.
    readonly = workspace.key("test", "readonly")
    assert _ok(_call(client, readonly, "GET", path))["importId"] == job["importId"]
    error(_call(client, readonly, "POST", f"{path}/process"), 403)
    error(_call(client, readonly, "DELETE", path), 403)
    error(_call(client, readonly, "POST", "/v0/imports", {"users": [{"email": "a@b.co"}]}), 403)
    error(client.get(path), 401)


# ------------------------------------------------------------------ uploads


def _upload(client: httpx.Client, key: str, tenant: str, fmt: str, content: bytes) -> dict:
    job = _create(
        client,
        key,
        tenant,
        {
            "source": "csv" if fmt == "csv" else "userfront",
            "upload": {"format": fmt, "size": len(content)},
        },
    )
    upload = job["upload"]
    assert upload["method"] == "PUT" and upload["headers"]["Content-Length"] == str(len(content))
    put = httpx.put(upload["url"], content=content, headers=upload["headers"], timeout=30)
    assert put.status_code == 200, put.text
    return job


def test_upload_jsonl_file(client, key, tenant) -> None:
    emails = [unique_email() for _ in range(105)]
    lines = [f'{{"email": "{e}", "name": "Line {n}"}}' for n, e in enumerate(emails)]
    lines.insert(10, "{not json")
    job = _upload(client, key, tenant, "jsonl", ("\n".join(lines) + "\n").encode())
    path = f"/v0/tenants/{tenant}/imports/{job['importId']}"
    _ok(_call(client, key, "POST", f"{path}/process"))
    done = _finished(client, key, tenant, job["importId"])
    assert done["status"] == "completed", done
    assert (done["totalCount"], done["createdCount"], done["errorCount"]) == (106, 105, 1)
    assert done["errors"] == [
        {"index": 10, "userId": None, "email": None, "message": "the line is not valid JSON"}
    ]
    assert done["format"] == "jsonl"
    found = _ok(
        _call(client, key, "POST", f"/v0/tenants/{tenant}/users/find", {"search": emails[-1]})
    )
    assert [u["name"] for u in found["results"]] == ["Line 104"]


def test_upload_csv_file(client, key, tenant) -> None:
    first, second = unique_email(), unique_email()
    user_id = 800_000 + uuid.uuid4().int % 100_000
    content = (
        "id,email,name,isEmailConfirmed,roles,password\r\n"
        f"{user_id},{first},Csv One,true,importer,{PASSWORD}\r\n"
        f",{second},Csv Two,false,,\r\n"
    ).encode()
    job = _upload(client, key, tenant, "csv", content)
    _ok(_call(client, key, "POST", f"/v0/tenants/{tenant}/imports/{job['importId']}/process"))
    done = _finished(client, key, tenant, job["importId"])
    assert (done["createdCount"], done["errorCount"]) == (2, 0), done
    user = _user(client, key, tenant, user_id)
    assert (user["email"], user["name"], user["isEmailConfirmed"]) == (first, "Csv One", True)
    _password_login(client, tenant, first, PASSWORD)


def test_processing_before_the_upload_is_400(client, key, tenant) -> None:
    job = _create(client, key, tenant, {"upload": {"format": "json", "size": 10}})
    path = f"/v0/tenants/{tenant}/imports/{job['importId']}"
    error(_call(client, key, "POST", f"{path}/process"), 400)
    assert _ok(_call(client, key, "GET", path))["status"] == "created"
    assert "upload" not in _ok(_call(client, key, "GET", path))


# ------------------------------------------------------------------ options.sendEmails


@pytest.fixture(scope="module")
def live_domain() -> str:
    return f"{uuid.uuid4().hex[:10]}.example.com"


@pytest.fixture(scope="module")
def live_key(workspace) -> str:
    return str(workspace.key("live", "admin"))


@pytest.fixture(scope="module")
def live_tenant(base_url: str, live_key: str, live_domain: str) -> str:
    """A live-only tenant whose users sign in from its live domain."""
    return new_tenant(
        base_url, live_key, {"liveDomains": [{"domain": live_domain}]}, name="Live imports"
    )


def _emails(client: httpx.Client, address: str) -> list[dict[str, Any]]:
    return outbox(client, address, "email")


def test_live_import_with_send_emails_welcomes_each_created_user(
    client, live_key, live_tenant, live_domain
) -> None:
    existing = unique_email()
    made = _ok(
        _call(client, live_key, "POST", f"/v0/tenants/{live_tenant}/users", {"email": existing})
    )
    first, second = unique_email(), unique_email()
    rows = [
        {"email": first, "name": "Wel Come"},
        {"email": second, "password": PASSWORD},
        {"email": existing, "name": "Updated"},
    ]
    job = _run(client, live_key, live_tenant, rows, sendEmails=True)
    assert (job["createdCount"], job["updatedCount"], job["errorCount"]) == (2, 1, 0)
    assert job["options"]["sendEmails"] is True

    sent = wait_for(lambda: _emails(client, first))
    assert len(sent) == 1, sent
    assert "Hi Wel Come," in sent[0]["text"] and "expires in 3 days" in sent[0]["text"]
    link = re.findall(r"https?://\S+", sent[0]["text"])
    assert len(link) == 1 and urlsplit(link[0]).path == "/login"
    params = link_params(link[0])
    assert params["type"] == "welcome"
    assert len(wait_for(lambda: _emails(client, second))) == 1
    # The updated user is not welcomed again.
    assert _emails(client, existing) == []
    assert _user(client, live_key, live_tenant, made["userId"])["lastMessagedAt"] is None

    # The link signs the imported user in, once.
    body = {"uuid": params["uuid"], "token": params["token"]}
    origin = {"Origin": f"https://app.{live_domain}"}
    answer = client.put(f"/v0/tenants/{live_tenant}/auth/link", json=body, headers=origin)
    assert answer.status_code == 200, answer.text
    assert claims(tokens(answer.json())[0])["mode"] == "live"
    again = client.put(f"/v0/tenants/{live_tenant}/auth/link", json=body, headers=origin)
    assert again.status_code == 401, again.text

    # Importing the same rows again updates them: nobody gets a second welcome.
    rerun = _run(client, live_key, live_tenant, rows[:2], sendEmails=True)
    assert (rerun["createdCount"], rerun["updatedCount"]) == (0, 2)
    assert len(_emails(client, first)) == 1 and len(_emails(client, second)) == 1


def test_live_import_without_send_emails_sends_nothing(client, live_key, live_tenant) -> None:
    quiet = unique_email()
    job = _run(client, live_key, live_tenant, [{"email": quiet}])
    assert job["createdCount"] == 1 and job["options"]["sendEmails"] is False
    # Its user exists (the job is done), and the outbox is drained after every call.
    assert _emails(client, quiet) == []


def test_test_mode_import_never_sends(client, key, tenant) -> None:
    address = unique_email()
    job = _run(client, key, tenant, [{"email": address}], sendEmails=True)
    assert job["createdCount"] == 1 and job["options"]["sendEmails"] is True
    assert _emails(client, address) == []
    user = _call(client, key, "POST", f"/v0/tenants/{tenant}/users/find", {"search": address})
    assert [u["lastMessagedAt"] for u in _ok(user)["results"]] == [None]
