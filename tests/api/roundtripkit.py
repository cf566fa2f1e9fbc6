"""The import → log-in → export → import round trip (issue 12), shared by
`tests/api/test_import_roundtrip.py` (a sample of the log-ins) and
`bench/import_roundtrip.py` (every user).

Each source preset gets its own tenant and `n` users in that system's own export format,
with password hashes made by each format's reference implementation at cheap parameters
(bcrypt cost 4, scrypt N=2^10, PBKDF2 1,000 iterations, argon2id m=8 MiB t=1): a
`userfront` import (inline JSON), a `csv` file, an Auth0 bulk export (JSON Lines, with
`custom_password_hash`), a Firebase `auth:export` (firebase-scrypt) and a Cognito user
pool (moto's real `cognito-idp`: ListUsers output imported, passwords checked by the
Cognito passthrough preset, since Cognito never exports hashes). Every user has a password
of its own, so a log-in proves that user's hash survived.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import httpx
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from passlib.hash import django_pbkdf2_sha256, md5_crypt, pbkdf2_sha256, pbkdf2_sha512, scrypt

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "e2e" / "run.mjs"
PAGE = "http://localhost:5173/login"
REGION = "eu-west-1"
CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
# A Firebase project's hash parameters, cheap (N = 2^10): what the console would show.
FIREBASE_CONFIG = {
    "base64_signer_key": base64.b64encode(hashlib.sha512(b"roundtrip signer").digest()).decode(),
    "base64_salt_separator": "Bw==",
    "rounds": 8,
    "mem_cost": 10,
}
PRESETS = ("userfront", "csv", "auth0", "firebase", "cognito")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _b64(raw: bytes, *, pad: bool = True) -> str:
    text = base64.b64encode(raw).decode()
    return text if pad else text.rstrip("=")


def firebase_hash(password: str, salt: bytes, config: dict[str, Any]) -> bytes:
    """Firebase's modified scrypt (firebase/scrypt): scrypt(password, salt ‖ separator,
    N=2^mem_cost, r=rounds, p=1) keys AES-256-CTR (counter 0) over the signer key."""
    separator = base64.b64decode(config["base64_salt_separator"])
    signer = base64.b64decode(config["base64_signer_key"])
    n = 1 << int(config["mem_cost"])
    derived = hashlib.scrypt(
        password.encode(),
        salt=salt + separator,
        n=n,
        r=int(config["rounds"]),
        p=1,
        dklen=64,
        maxmem=256 * 1024 * 1024,
    )[:32]
    encryptor = Cipher(algorithms.AES(derived), modes.CTR(b"\0" * 16)).encryptor()
    return encryptor.update(signer) + encryptor.finalize()


# -------------------------------------------------------------- hashes, one per format

# name -> (password -> the `passwordHash` of a `userfront`/`csv` row). CSV cells hold the
# string forms only.
STRING_FORMATS: dict[str, Callable[[str], Any]] = {
    "bcrypt": lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4)).decode(),
    "argon2id": CHEAP_ARGON2.hash,
    "scrypt": lambda pw: scrypt.using(rounds=10).hash(pw),
    "pbkdf2-sha256": lambda pw: pbkdf2_sha256.using(rounds=1000).hash(pw),
    "pbkdf2-sha512": lambda pw: pbkdf2_sha512.using(rounds=1000).hash(pw),
    "django-pbkdf2": lambda pw: django_pbkdf2_sha256.using(rounds=1000).hash(pw),
    "md5-crypt": md5_crypt.hash,
}


def _pbkdf2_object(pw: str) -> dict[str, Any]:
    salt = os.urandom(16)
    derived = hashlib.pbkdf2_hmac("sha1", pw.encode(), salt, 1000, 20)
    return {
        "algorithm": "pbkdf2",
        "digest": "sha1",
        "iterations": 1000,
        "salt": salt.hex(),
        "hash": derived.hex(),
        "encoding": "hex",
    }


def _sha512_object(pw: str) -> dict[str, Any]:
    salt = os.urandom(12)
    return {
        "algorithm": "sha512",
        "hash": _b64(hashlib.sha512(salt + pw.encode()).digest()),
        "salt": _b64(salt),
        "saltPosition": "prefix",
    }


USERFRONT_FORMATS: dict[str, Callable[[str], Any]] = {
    **STRING_FORMATS,
    "pbkdf2-object": _pbkdf2_object,
    "sha512-salted": _sha512_object,
}
CSV_FORMATS = ("bcrypt", "django-pbkdf2", "pbkdf2-sha512", "md5-crypt")


def _auth0_scrypt(pw: str) -> dict[str, Any]:
    salt = os.urandom(16)
    derived = hashlib.scrypt(pw.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)
    return {
        "algorithm": "scrypt",
        "hash": {"value": _b64(derived), "encoding": "base64"},
        "salt": {"value": _b64(salt), "encoding": "base64"},
        "keylen": 32,
        "cost": 1024,
        "blockSize": 8,
        "parallelization": 1,
    }


def _auth0_pbkdf2(pw: str) -> dict[str, Any]:
    salt = os.urandom(16)
    derived = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 1000, 32)
    value = f"$pbkdf2-sha256$i=1000,l=32${_b64(salt, pad=False)}${_b64(derived, pad=False)}"
    return {"algorithm": "pbkdf2", "hash": {"value": value, "encoding": "utf8"}}


def _auth0_sha256(pw: str) -> dict[str, Any]:
    salt = uuid.uuid4().hex[:10]
    digest = hashlib.sha256((pw + salt).encode()).hexdigest()
    return {
        "algorithm": "sha256",
        "hash": {"value": digest, "encoding": "hex"},
        "salt": {"value": salt, "position": "suffix"},
    }


# name -> (password -> the fields of an Auth0 export line that carry it)
AUTH0_FORMATS: dict[str, Callable[[str], dict[str, Any]]] = {
    "password_hash bcrypt": lambda pw: {"password_hash": STRING_FORMATS["bcrypt"](pw)},
    "custom bcrypt": lambda pw: {
        "custom_password_hash": {
            "algorithm": "bcrypt",
            "hash": {"value": STRING_FORMATS["bcrypt"](pw)},
        }
    },
    "custom argon2": lambda pw: {
        "custom_password_hash": {
            "algorithm": "argon2",
            "hash": {"value": CHEAP_ARGON2.hash(pw), "encoding": "utf8"},
        }
    },
    "custom pbkdf2": lambda pw: {"custom_password_hash": _auth0_pbkdf2(pw)},
    "custom scrypt": lambda pw: {"custom_password_hash": _auth0_scrypt(pw)},
    "custom sha256": lambda pw: {"custom_password_hash": _auth0_sha256(pw)},
}


# ------------------------------------------------------------------- the users of a preset


@dataclass
class Person:
    """One user as the old system knew them, and how their password was kept there."""

    email: str
    password: str
    fmt: str
    user_id: int | None = None  # the Portcullis userId, once imported


@dataclass
class Batch:
    """What one preset brings: its records, how they are sent, who they are."""

    preset: str
    people: list[Person]
    records: list[Any] = field(default_factory=list)
    upload: tuple[str, bytes] | None = None  # (format, file content)
    options: dict[str, Any] = field(default_factory=dict)


def _people(preset: str, n: int, formats: Sequence[str], run: str) -> list[Person]:
    return [
        Person(
            f"rt-{preset}-{i}-{run}@example.com",
            f"pw-{preset}-{i}-{run}-Q7",
            formats[i % len(formats)],
        )
        for i in range(n)
    ]


def userfront_batch(n: int, run: str) -> Batch:
    people = _people("userfront", n, sorted(USERFRONT_FORMATS), run)
    records = [
        {
            "email": p.email,
            "name": f"User {i}",
            "data": {"n": i, "origin": "userfront"},
            "roles": ["member"] if i % 3 == 0 else [],
            "isEmailConfirmed": i % 2 == 0,
            "createdAt": "2019-03-04T05:06:07.000Z",
            "passwordHash": USERFRONT_FORMATS[p.fmt](p.password),
        }
        for i, p in enumerate(people)
    ]
    return Batch("userfront", people, records, options={"allowWeakHashes": True})


def csv_batch(n: int, run: str) -> Batch:
    people = _people("csv", n, CSV_FORMATS, run)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "email", "name", "isEmailConfirmed", "data.plan", "passwordHash"])
    for i, p in enumerate(people):
        row = [str(i + 1), p.email, f"Csv {i}", "1" if i % 2 else "0", "pro", None]
        row[-1] = STRING_FORMATS[p.fmt](p.password)
        writer.writerow(row)
    return Batch(
        "csv", people, upload=("csv", out.getvalue().encode()), options={"allowWeakHashes": True}
    )


def auth0_batch(n: int, run: str) -> Batch:
    people = _people("auth0", n, sorted(AUTH0_FORMATS), run)
    lines = []
    for i, p in enumerate(people):
        line = {
            "user_id": f"auth0|{uuid.uuid4().hex[:24]}",
            "email": p.email,
            "email_verified": True,
            "name": f"Auth Zero {i}",
            "user_metadata": {"theme": "dark"},
            "app_metadata": {"roles": ["member"]} if i % 4 == 0 else {},
            "created_at": "2021-06-07T08:09:10.111Z",
            **AUTH0_FORMATS[p.fmt](p.password),
        }
        lines.append(json.dumps(line))
    content = ("\n".join(lines) + "\n").encode()
    return Batch("auth0", people, upload=("jsonl", content), options={"allowWeakHashes": True})


def firebase_batch(n: int, run: str) -> Batch:
    people = _people("firebase", n, ["firebase-scrypt"], run)
    records = []
    for i, p in enumerate(people):
        salt = os.urandom(16)
        records.append(
            {
                "localId": uuid.uuid4().hex[:28],
                "email": p.email,
                "emailVerified": i % 2 == 0,
                "displayName": f"Fire {i}",
                "createdAt": str(1_600_000_000_000 + i),
                "passwordHash": _b64(firebase_hash(p.password, salt, FIREBASE_CONFIG)),
                "salt": _b64(salt),
            }
        )
    option = {
        "signerKey": FIREBASE_CONFIG["base64_signer_key"],
        "saltSeparator": FIREBASE_CONFIG["base64_salt_separator"],
        "rounds": FIREBASE_CONFIG["rounds"],
        "memCost": FIREBASE_CONFIG["mem_cost"],
    }
    return Batch("firebase", people, records, options={"firebaseHashConfig": option})


@dataclass(frozen=True)
class Pool:
    pool_id: str
    client_id: str
    client_secret: str

    def passthrough(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "preset": "cognito",
            "cognito": {
                "region": REGION,
                "userPoolId": self.pool_id,
                "clientId": self.client_id,
                "clientSecret": self.client_secret,
            },
        }


def cognito_batch(environment: dict[str, str], n: int, run: str) -> tuple[Batch, Pool]:
    """A user pool on the runtime's moto holding `n` confirmed users, and its ListUsers
    output (every page) as the records to import."""
    import boto3

    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=environment["AWS_ENDPOINT_URL"],
        region_name=REGION,
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )
    pool_id = cognito.create_user_pool(
        PoolName=f"roundtrip-{run}",
        Schema=[{"Name": "plan", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    app = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="legacy",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    people = _people("cognito", n, ["cognito-passthrough"], run)
    for i, p in enumerate(people):
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=p.email,
            UserAttributes=[
                {"Name": "email", "Value": p.email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": f"Cog {i}"},
                {"Name": "custom:plan", "Value": "gold"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=p.email, Password=p.password, Permanent=True
        )
    records: list[Any] = []
    token: str | None = None
    while True:
        page = cognito.list_users(
            UserPoolId=pool_id, Limit=60, **({"PaginationToken": token} if token else {})
        )
        records += json.loads(json.dumps(page["Users"], default=lambda d: d.isoformat()))
        token = page.get("PaginationToken")
        if not token:
            break
    pool = Pool(pool_id, app["ClientId"], app["ClientSecret"])
    return Batch("cognito", people, records), pool


# ----------------------------------------------------------------------- the service side


def start_import(http: httpx.Client, key: str, tenant: str, batch: Batch) -> dict[str, Any]:
    """Create the import of `batch` and start processing it."""
    options = {"process": True, **batch.options}
    body: dict[str, Any] = {"source": batch.preset, "options": options}
    if batch.upload is None:
        body["users"] = batch.records
    else:
        fmt, content = batch.upload
        body["upload"] = {"format": fmt, "size": len(content)}
    path = f"/v0/tenants/{tenant}/imports"
    job = ok(http.post(path, json=body, headers=bearer(key)))
    if batch.upload is not None:
        upload = job["upload"]
        put = httpx.put(upload["url"], content=batch.upload[1], headers=upload["headers"])
        assert put.status_code == 200, put.text
        job = ok(http.post(f"{path}/{job['importId']}/process", headers=bearer(key)))
    return dict(job)


def wait_import(
    http: httpx.Client, key: str, job: dict[str, Any], *, timeout: float = 1800
) -> dict[str, Any]:
    """The job once the worker has finished it (or the last state seen at `timeout`)."""
    path = f"/v0/tenants/{job['tenantId']}/imports/{job['importId']}"
    deadline = time.monotonic() + timeout
    while job["status"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(1.0)  # the local runtime serves polls and runs the worker in one process
        job = ok(http.get(path, headers=bearer(key)))
    return dict(job)


def run_import(http: httpx.Client, key: str, tenant: str, batch: Batch) -> dict[str, Any]:
    return wait_import(http, key, start_import(http, key, tenant, batch))


def export(http: httpx.Client, key: str, tenant: str) -> list[dict[str, Any]]:
    """Every row of the tenant's export, hashes included (the runtime must allow them)."""
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"includePasswordHashes": "true", "limit": 1000}
    while True:
        response = http.get(
            f"/v0/tenants/{tenant}/users/export", params=params, headers=bearer(key)
        )
        assert response.status_code == 200, response.text
        rows += [json.loads(line) for line in response.text.splitlines()]
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            return rows
        params["cursor"] = cursor


def as_jsonl(rows: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def log_in(http: httpx.Client, tenant: str, person: Person, password: str | None = None) -> int:
    body = {"emailOrUsername": person.email, "password": password or person.password}
    return http.post(f"/v0/tenants/{tenant}/auth/basic", json=body).status_code


def client_log_in(base_url: str, tenant: str, person: Person) -> dict[str, Any]:
    """Log in through the unmodified `@userfront/core` in a jsdom page (tests/e2e)."""
    payload = {
        "apiUrl": f"{base_url}/v0/",
        "pageUrl": PAGE,
        "tenantId": tenant,
        "email": person.email,
        "password": person.password,
    }
    done = subprocess.run(
        ["node", str(RUNNER), "login_password", json.dumps(payload)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip(), done.stderr
    return dict(json.loads(done.stdout))


def sample(people: Sequence[Person], per_format: int) -> list[Person]:
    """The first `per_format` users of each format: deterministic, every format covered."""
    taken: dict[str, int] = {}
    chosen = []
    for person in people:
        if taken.get(person.fmt, 0) < per_format:
            taken[person.fmt] = taken.get(person.fmt, 0) + 1
            chosen.append(person)
    return chosen
