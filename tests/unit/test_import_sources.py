"""Source presets (concepts §7.3, §7.4; `portcullis.imports.sources`): another system's
export record → one import row.

Cognito records are what moto's real `cognito-idp` answers to ListUsers / AdminGetUser
(the unit tests' moto server), both as boto3 returns them (datetimes) and as the AWS CLI writes
them to a file (ISO strings). Hashes are made with the reference implementations
(hashlib's PBKDF2 and scrypt) and, after reshaping, recomputed from the row alone: the
preset loses nothing a verifier needs.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from portcullis.imports.sources import SOURCES, UnmappableRecord, to_row
from portcullis.platform.timefmt import iso

PASSWORD = "correct horse battery 9"


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


# ----------------------------------------------------------------------------- cognito


@pytest.fixture
def cognito(aws: str) -> Iterator[tuple[Any, str]]:
    """A user pool in moto's Cognito with a custom attribute and five kinds of users.

    On the unit tests' moto server (`aws`), never an in-process `mock_aws`: leaving one
    resets moto's backends for the whole process, the server's table and KMS key with
    them, and later unit tests in this worker fail."""
    import boto3

    client = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=aws)
    pool = client.create_user_pool(
        PoolName="legacy",
        Schema=[{"Name": "plan", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]

    def user(username: str, attributes: dict[str, str], password: bool = True) -> None:
        client.admin_create_user(
            UserPoolId=pool,
            Username=username,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
            MessageAction="SUPPRESS",
        )
        if password:  # a permanent password makes the user CONFIRMED
            client.admin_set_user_password(
                UserPoolId=pool, Username=username, Password="Passw0rd!x", Permanent=True
            )

    user(
        "alice",
        {
            "email": "alice@example.com",
            "email_verified": "true",
            "phone_number": "+15558675309",
            "phone_number_verified": "false",
            "name": "Alice Liddell",
            "picture": "https://example.com/alice.png",
            "custom:plan": "pro",
        },
    )
    user(
        "5f0e2c1d-9a7b-4c3e-8d21-6b4a0f9e7c12",
        {"email": "bob@example.com", "preferred_username": "bobby"},
    )
    user("0b6e7c1a-1d2e-4f3a-9b8c-7d6e5f4a3b2c", {"email": "carol@example.com"})
    user("dave", {"email": "dave@example.com"}, password=False)
    user("erin", {"email": "erin@example.com"})
    client.admin_disable_user(UserPoolId=pool, Username="erin")
    yield client, pool


def _listed(client: Any, pool: str) -> dict[str, dict[str, Any]]:
    users = client.list_users(UserPoolId=pool)["Users"]
    return {u["Username"]: u for u in users}


def test_cognito_list_users_maps_as_concepts_7_3(cognito: tuple[Any, str]) -> None:
    client, pool = cognito
    listed = _listed(client, pool)
    alice = listed["alice"]
    sub = next(a["Value"] for a in alice["Attributes"] if a["Name"] == "sub")
    row = to_row("cognito", alice)
    assert row == {
        "email": "alice@example.com",
        "isEmailConfirmed": True,
        "phoneNumber": "+15558675309",
        "isPhoneNumberConfirmed": False,
        "name": "Alice Liddell",
        "username": "alice",
        "image": "https://example.com/alice.png",
        "data": {"plan": "pro", "cognitoSub": sub},
        "createdAt": iso(alice["UserCreateDate"]),
    }
    assert alice["UserStatus"] == "CONFIRMED"
    assert "passwordHash" not in row and "password" not in row
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["createdAt"])


def test_cognito_username_preferred_then_only_when_not_a_uuid(cognito: tuple[Any, str]) -> None:
    client, pool = cognito
    listed = _listed(client, pool)
    assert to_row("cognito", listed["5f0e2c1d-9a7b-4c3e-8d21-6b4a0f9e7c12"])["username"] == "bobby"
    assert "username" not in to_row("cognito", listed["0b6e7c1a-1d2e-4f3a-9b8c-7d6e5f4a3b2c"])


def test_cognito_disabled_is_locked_and_forced_change_has_no_password(
    cognito: tuple[Any, str],
) -> None:
    client, pool = cognito
    listed = _listed(client, pool)
    erin = to_row("cognito", listed["erin"])
    assert listed["erin"]["Enabled"] is False and erin["locked"] is True
    dave = to_row("cognito", listed["dave"])
    assert listed["dave"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert "locked" not in dave and "passwordHash" not in dave and "password" not in dave


def test_cognito_cli_file_and_admin_get_user_give_the_same_row(cognito: tuple[Any, str]) -> None:
    """What `aws cognito-idp list-users > users.json` writes (ISO timestamps), and the
    AdminGetUser shape (`UserAttributes`), map like boto3's ListUsers element."""
    client, pool = cognito
    alice = _listed(client, pool)["alice"]
    from_file = json.loads(json.dumps({"Users": [alice]}, default=lambda d: d.isoformat()))
    assert to_row("cognito", from_file["Users"][0]) == to_row("cognito", alice)
    got = client.admin_get_user(UserPoolId=pool, Username="alice")
    assert to_row("cognito", got) == to_row("cognito", alice)
    epoch = dict(from_file["Users"][0], UserCreateDate=alice["UserCreateDate"].timestamp())
    assert to_row("cognito", epoch)["createdAt"] == to_row("cognito", alice)["createdAt"]


def test_cognito_groups_merged_in_become_roles() -> None:
    record = {"Username": "zed", "Attributes": [], "Groups": [{"GroupName": "admin"}, "member"]}
    assert to_row("cognito", record)["roles"] == ["admin", "member"]


# ------------------------------------------------------------------------------- auth0


def _auth0_user(**extra: Any) -> dict[str, Any]:
    return {
        "user_id": "auth0|65a1f0c2e4b0a1b2c3d4e5f6",
        "email": "jane@example.com",
        "email_verified": True,
        "username": "jane",
        "name": "Jane Doe",
        "picture": "https://example.com/jane.png",
        "phone_number": "+15550001111",
        "phone_verified": False,
        "user_metadata": {"plan": "pro", "theme": "dark"},
        "app_metadata": {"roles": ["admin", "member"], "billingId": "cus_1"},
        "created_at": "2023-04-05T06:07:08.123Z",
        **extra,
    }


def test_auth0_export_line_maps_profile_metadata_roles() -> None:
    row = to_row("auth0", _auth0_user(blocked=True))
    assert row == {
        "email": "jane@example.com",
        "isEmailConfirmed": True,
        "username": "jane",
        "name": "Jane Doe",
        "image": "https://example.com/jane.png",
        "phoneNumber": "+15550001111",
        "isPhoneNumberConfirmed": False,
        "locked": True,
        "data": {
            "plan": "pro",
            "theme": "dark",
            "auth0AppMetadata": {"billingId": "cus_1"},
            "auth0UserId": "auth0|65a1f0c2e4b0a1b2c3d4e5f6",
        },
        "roles": ["admin", "member"],
        "createdAt": "2023-04-05T06:07:08.123Z",
    }


def test_auth0_bcrypt_string_and_argon2_pass_through() -> None:
    bcrypt_hash = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
    assert to_row("auth0", _auth0_user(password_hash=bcrypt_hash))["passwordHash"] == bcrypt_hash
    support_export = {"_id": {"$oid": "5b0f"}, "email": "a@b.co", "passwordHash": bcrypt_hash}
    row = to_row("auth0", support_export)
    assert row["passwordHash"] == bcrypt_hash and row["data"] == {"auth0UserId": "5b0f"}
    argon = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
    spec = {"algorithm": "argon2", "hash": {"value": argon, "encoding": "utf8"}}
    assert to_row("auth0", _auth0_user(custom_password_hash=spec))["passwordHash"] == argon


def test_auth0_pbkdf2_phc_string_is_kept_as_it_is() -> None:
    salt = b"\x01\x02saltysalt\xff"
    derived = hashlib.pbkdf2_hmac("sha1", PASSWORD.encode(), salt, 1000, 64)
    b64 = lambda data: base64.b64encode(data).decode().rstrip("=")  # noqa: E731
    value = f"$pbkdf2-sha1$i=1000,l=64${b64(salt)}${b64(derived)}"
    spec = {"algorithm": "pbkdf2", "hash": {"value": value, "encoding": "utf8"}}
    assert to_row("auth0", _auth0_user(custom_password_hash=spec))["passwordHash"] == value


def test_auth0_scrypt_becomes_a_phc_string_and_still_verifies() -> None:
    salt = b"pepper-and-salt"
    derived = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)
    spec = {
        "algorithm": "scrypt",
        "hash": {"value": derived.hex(), "encoding": "hex"},
        "salt": {"value": salt.decode(), "encoding": "utf8"},
        "keylen": 32,
        "cost": 1024,
        "blockSize": 8,
        "parallelization": 1,
    }
    phc = to_row("auth0", _auth0_user(custom_password_hash=spec))["passwordHash"]
    match = re.fullmatch(r"\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)", phc)
    assert match, phc
    ln, r, p = (int(x) for x in match.groups()[:3])
    salt_out, hash_out = _unb64(match[4]), _unb64(match[5])
    assert "=" not in match[4] + match[5]  # PHC base64 has no padding
    again = hashlib.scrypt(PASSWORD.encode(), salt=salt_out, n=2**ln, r=r, p=p, dklen=len(hash_out))
    assert again == hash_out == derived


def test_auth0_salted_digests_keep_salt_and_position() -> None:
    salt = "s4lt"
    digest = hashlib.sha256((PASSWORD + salt).encode()).hexdigest()
    spec = {
        "algorithm": "sha256",
        "hash": {"value": digest, "encoding": "hex"},
        "salt": {"value": salt, "position": "suffix"},
    }
    shaped = to_row("auth0", _auth0_user(custom_password_hash=spec))["passwordHash"]
    assert shaped == {
        "algorithm": "sha256",
        "hash": digest,
        "encoding": "hex",
        "salt": salt,
        "saltEncoding": "utf8",
        "saltPosition": "suffix",
    }
    assert hashlib.sha256((PASSWORD + shaped["salt"]).encode()).hexdigest() == shaped["hash"]


def test_auth0_unknown_hash_algorithm_is_passed_on_for_validation_to_refuse() -> None:
    spec = {"algorithm": "whirlpool9", "hash": {"value": "abc"}}
    assert to_row("auth0", _auth0_user(custom_password_hash=spec))["passwordHash"] == spec


# ---------------------------------------------------------------------------- firebase


def test_firebase_export_user_maps_and_keeps_the_scrypt_hash() -> None:
    raw_hash = bytes(range(64))
    raw_salt = b"\xfb\xff\xfe salt"
    record = {
        "localId": "Wj8u2f0a9QbKx1",
        "email": "fb@example.com",
        "emailVerified": True,
        "displayName": "Fire Base",
        "photoUrl": "https://example.com/fb.png",
        "phoneNumber": "+447700900123",
        "disabled": True,
        "createdAt": "1700000000123",
        "customAttributes": '{"admin": true}',
        # web-safe base64, as some tools copy it; the row gets standard base64
        "passwordHash": base64.urlsafe_b64encode(raw_hash).decode(),
        "salt": base64.urlsafe_b64encode(raw_salt).decode(),
    }
    row = to_row("firebase", record)
    assert row == {
        "email": "fb@example.com",
        "isEmailConfirmed": True,
        "name": "Fire Base",
        "image": "https://example.com/fb.png",
        "phoneNumber": "+447700900123",
        "locked": True,
        "data": {"firebaseUid": "Wj8u2f0a9QbKx1", "firebaseCustomClaims": {"admin": True}},
        "createdAt": "2023-11-14T22:13:20.123Z",
        "passwordHash": {
            "algorithm": "firebase-scrypt",
            "hash": base64.b64encode(raw_hash).decode(),
            "salt": base64.b64encode(raw_salt).decode(),
        },
    }


def test_firebase_user_without_password_has_no_hash() -> None:
    row = to_row("firebase", {"localId": "abc", "email": "x@example.com", "createdAt": 0})
    assert "passwordHash" not in row and row["createdAt"] == "1970-01-01T00:00:00.000Z"


# ----------------------------------------------------------------------- csv, userfront


def test_csv_lines_become_typed_rows() -> None:
    text = (
        "id,email,isEmailConfirmed,locked,roles,data.plan,data.seats,data.zip,name,username\n"
        "7,a@example.com,TRUE,false,admin;member,pro,12,007,Ann Example,\n"
        ",b@example.com,0,1,,,,,,bee\n"
    )
    first, second = (to_row("csv", r) for r in csv.DictReader(io.StringIO(text)))
    assert first == {
        "userId": 7,
        "email": "a@example.com",
        "isEmailConfirmed": True,
        "locked": False,
        "roles": ["admin", "member"],
        "data": {"plan": "pro", "seats": 12, "zip": "007"},
        "name": "Ann Example",
    }
    assert second == {
        "email": "b@example.com",
        "isEmailConfirmed": False,
        "locked": True,
        "username": "bee",
    }


def test_csv_keeps_what_it_cannot_type_for_validation_to_name() -> None:
    row = to_row("csv", {"userId": "seven", "email": "c@example.com", "locked": "maybe"})
    assert row == {"userId": "seven", "email": "c@example.com", "locked": "maybe"}


def test_userfront_row_is_itself_with_id_as_user_id() -> None:
    row = {"id": 3, "email": "u@example.com", "passwordHash": {"algorithm": "pbkdf2"}}
    assert to_row("userfront", row) == {
        "userId": 3,
        "email": "u@example.com",
        "passwordHash": {"algorithm": "pbkdf2"},
    }
    assert to_row("userfront", {"userUuid": "x"}) == {"userUuid": "x"}


# -------------------------------------------------------------------------- unmappable


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_record_that_is_not_an_object_is_unmappable(source: str) -> None:
    with pytest.raises(UnmappableRecord, match="object"):
        to_row(source, ["not", "an", "object"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "record", "message"),
    [
        ("userfront", {"name": "No One"}, '"email" is required'),
        ("csv", {"name": "No One", "email": ""}, '"email" is required'),
        ("cognito", {"Attributes": [{"Name": "name", "Value": "x"}]}, "no Username"),
        ("auth0", {"name": "x", "user_metadata": {}}, "no user_id"),
        ("firebase", {"displayName": "x"}, "no localId"),
    ],
)
def test_a_record_without_any_identifier_is_unmappable(
    source: str, record: dict[str, Any], message: str
) -> None:
    with pytest.raises(UnmappableRecord, match=message):
        to_row(source, record)


def test_an_unknown_source_is_named() -> None:
    with pytest.raises(UnmappableRecord, match='"source" must be one of'):
        to_row("okta", {"email": "a@example.com"})
