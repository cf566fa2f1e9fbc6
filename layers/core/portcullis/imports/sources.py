"""Source presets (concepts §7.3, §7.4): one record of another system's export → one import
row (api-server §1.10). A preset only renames and reshapes fields; checking a row's values
is the job of the import's row validation, so a preset never rejects what it can map: a
value it does not understand is passed on as it came, and the row's validation names it.

A record is unmappable only when it is not an object or carries no identifier of its
source at all (`UnmappableRecord`, whose message says which).

Password hashes are reshaped into the `passwordHash` forms of concepts §7.4
(`credentials.passwords.stored_form` decides whether it accepts them):

- self-describing strings (bcrypt `$2a$/$2b$/$2y$`, argon2 PHC) stay as they are;
- scrypt → the PHC string `$scrypt$ln=..,r=..,p=..$<salt>$<hash>` (standard base64, no
  padding, as the PHC string format says);
- Auth0's PBKDF2 is already a PHC string (`$pbkdf2-sha1$i=..,l=..$salt$hash`) and stays;
- Firebase → `{algorithm: "firebase-scrypt", hash, salt}` (standard base64; the project's
  scrypt parameters are workspace settings, not per user);
- salted digests (Auth0 `md5`/`sha1`/`sha256`/`sha512`, `hmac`) → `{algorithm, hash, salt,
  saltPosition, encoding}` (only accepted with `options.allowWeakHashes`, and only the
  families concepts §7.4 names; the rest fail their row, with the algorithm named).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from portcullis.platform.identifiers import UUID
from portcullis.platform.timefmt import iso, parse_iso

SOURCES = frozenset({"userfront", "csv", "cognito", "auth0", "firebase"})

# The row fields that say who a user is (api-server §1.10): a row with none of them cannot
# be matched to or create anyone.
ROW_IDENTIFIERS = ("userId", "id", "userUuid", "email", "username", "phoneNumber")
# CSV cells are text: these columns are read as booleans, these as integers.
CSV_BOOLEANS = frozenset({"isEmailConfirmed", "isPhoneNumberConfirmed", "locked", "isMfaRequired"})
CSV_INTEGERS = frozenset({"userId", "id"})


class UnmappableRecord(ValueError):
    """A record the preset cannot turn into a row; the message names what is wrong."""


def to_row(source: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The import row for one record of `source` (one of `SOURCES`)."""
    preset = _PRESETS.get(source)
    if preset is None:
        raise UnmappableRecord(f'"source" must be one of {", ".join(sorted(SOURCES))}')
    if not isinstance(record, Mapping):
        raise UnmappableRecord(f"a {source} record must be a JSON object")
    return preset(record)


# ------------------------------------------------------------------------------ helpers


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _set(row: dict[str, Any], key: str, value: Any) -> None:
    """Copy a value that is there; an absent or empty one leaves the field out, so an
    update by import never blanks a field the source did not export."""
    if _present(value):
        row[key] = value


def _flag(value: Any) -> Any:
    """A boolean the source may write as text ("true"/"false", Cognito's attributes, CSV
    cells); anything else is passed on for the row validation to name."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _copy(
    row: dict[str, Any],
    source: Mapping[str, Any],
    fields: Mapping[str, str],
    flags: Mapping[str, str],
) -> None:
    """`_set` each row field from the source field it maps to; `flags` are booleans the
    source may write as text (read with `_flag`). A provider's mapping is then a table."""
    for field, name in fields.items():
        _set(row, field, source.get(name))
    for field, name in flags.items():
        _set(row, field, _flag(source.get(name)))


def _timestamp(value: Any, *, epoch_unit: float = 1.0) -> Any:
    """A creation time as the wire writes it (ISO 8601 UTC, milliseconds, `Z`): from a
    datetime (boto3), epoch seconds (Cognito's JSON) or milliseconds (Firebase, with
    `epoch_unit=1000`), or an ISO string. What it cannot read is passed on as it came."""
    try:
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return iso(moment)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                return iso(datetime.fromtimestamp(value / epoch_unit, UTC))
            return value
        if isinstance(value, str) and value.strip():
            text = value.strip()
            if re.fullmatch(r"\d+(\.\d+)?", text):
                return iso(datetime.fromtimestamp(float(text) / epoch_unit, UTC))
            return iso(parse_iso(text))
    except (ValueError, OverflowError, OSError):
        return value
    return value


def _b64_bytes(value: str, encoding: str = "base64") -> bytes:
    """Bytes of an encoded value: base64 (standard, URL-safe, padded or not), hex, or
    the text itself (`utf8`/`ascii`/`latin1`, Auth0's salt encodings)."""
    if encoding == "hex":
        return bytes.fromhex(value)
    if encoding in ("utf8", "utf-8", "ascii", "latin1", "binary"):
        return value.encode("latin1" if encoding in ("latin1", "binary") else "utf-8")
    text = value.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _phc_b64(data: bytes) -> str:
    return _b64(data).rstrip("=")


def _data(row: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = row.setdefault("data", {})
    return data


# ---------------------------------------------------------------------- userfront, csv


def _userfront(record: Mapping[str, Any]) -> dict[str, Any]:
    """The import row itself (also what `imports.export` writes); `id` is `userId`."""
    row = dict(record)
    if "id" in row and "userId" not in row:
        row["userId"] = row.pop("id")
    if not any(_present(row.get(key)) for key in ROW_IDENTIFIERS):
        # No userId, userUuid, email, username or phone number: nobody to update, and a
        # new user needs an email (the same words as the row check's).
        raise UnmappableRecord('"email" is required')
    return row


def _csv_value(column: str, cell: Any) -> Any:
    if not isinstance(cell, str):
        return cell
    text = cell.strip()
    if column in CSV_BOOLEANS:
        return {"1": True, "0": False}.get(text, _flag(text))
    if column in CSV_INTEGERS and re.fullmatch(r"[0-9]+", text):
        return int(text)
    if column in ("passwordHash", "data", "roles") and text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if column == "roles":
        return [name.strip() for name in re.split(r"[;,|]", text) if name.strip()]
    return text


def _csv_data_value(cell: Any) -> Any:
    """A `data.<key>` cell: booleans and canonical integers become JSON values; anything
    else (including "007", which an integer would change) stays text."""
    if not isinstance(cell, str):
        return cell
    text = cell.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if re.fullmatch(r"-?(0|[1-9][0-9]{0,14})", text):
        return int(text)
    return text


def _csv(record: Mapping[str, Any]) -> dict[str, Any]:
    """One CSV line read against its header row (`csv.DictReader`): `id` or `userId`,
    text → types, `data.<key>` columns → `data`. Empty cells are left out."""
    row: dict[str, Any] = {}
    for raw_column, cell in record.items():
        if raw_column is None:  # more cells than header columns
            continue
        column = str(raw_column).strip()
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        if column.startswith("data.") and len(column) > 5:
            _data(row)[column[5:]] = _csv_data_value(cell)
        elif column:
            row[column] = _csv_value(column, cell)
    return _userfront(row)


# ----------------------------------------------------------------------------- cognito


# Cognito's user attributes (concepts §7.3) as row fields.
_COGNITO_FIELDS = {"email": "email", "phoneNumber": "phone_number", "name": "name"}
_COGNITO_FLAGS = {
    "isEmailConfirmed": "email_verified",
    "isPhoneNumberConfirmed": "phone_number_verified",
}


def _cognito(record: Mapping[str, Any]) -> dict[str, Any]:
    """One element of ListUsers `Users` (or an AdminGetUser answer), mapped as concepts
    §7.3 says. Cognito never exports password hashes: its users get theirs through the
    passthrough preset (docs/auth.md), or a reset — FORCE_CHANGE_PASSWORD and
    RESET_REQUIRED users in any case, as Cognito itself would not accept their password."""
    listed = record.get("Attributes", record.get("UserAttributes")) or []
    attributes: dict[str, Any] = {}
    if isinstance(listed, list):
        for entry in listed:
            if isinstance(entry, Mapping) and isinstance(entry.get("Name"), str):
                attributes[entry["Name"]] = entry.get("Value")
    username = record.get("Username")
    if not _present(username) and not _present(attributes.get("sub")):
        raise UnmappableRecord("Cognito user has no Username and no sub attribute")
    row: dict[str, Any] = {}
    _copy(row, attributes, _COGNITO_FIELDS, _COGNITO_FLAGS)
    preferred = attributes.get("preferred_username")
    if _present(preferred):
        row["username"] = preferred
    elif isinstance(username, str) and username and not UUID.match(username):
        row["username"] = username
    _set(row, "image", attributes.get("picture"))
    for name, value in attributes.items():
        if name.startswith("custom:") and len(name) > 7 and _present(value):
            _data(row)[name[7:]] = value
    if _present(attributes.get("sub")):
        _data(row)["cognitoSub"] = attributes["sub"]
    if _present(record.get("UserCreateDate")):
        row["createdAt"] = _timestamp(record["UserCreateDate"])
    if record.get("Enabled") is False:
        row["locked"] = True
    groups = record.get("Groups")
    if isinstance(groups, list) and groups:
        # Not part of ListUsers: an operator may merge AdminListGroupsForUser in. Groups
        # become application-wide roles of the same names (concepts §7.3).
        row["roles"] = [g.get("GroupName") if isinstance(g, Mapping) else g for g in groups]
    return row


# ------------------------------------------------------------------------------- auth0


def _auth0_digest_hash(algorithm: str, spec: Mapping[str, Any]) -> Any:
    """A salted digest or HMAC of Auth0's `custom_password_hash`, in the object form."""
    hashed = spec.get("hash") or {}
    salt = spec.get("salt") or {}
    shaped: dict[str, Any] = {
        "algorithm": algorithm,
        "hash": hashed.get("value"),
        "encoding": hashed.get("encoding", "hex"),
    }
    if salt:
        shaped["salt"] = salt.get("value")
        shaped["saltEncoding"] = salt.get("encoding", "utf8")
        shaped["saltPosition"] = salt.get("position", "prefix")
    if algorithm == "hmac":
        shaped["digest"] = hashed.get("digest")
        key = hashed.get("key") or {}
        shaped["key"] = key.get("value")
        shaped["keyEncoding"] = key.get("encoding", "utf8")
    return shaped


def _auth0_scrypt(spec: Mapping[str, Any]) -> Any:
    """Auth0's scrypt (`hash`, `salt`, `keylen`, `cost`, `blockSize`, `parallelization`)
    → the PHC string; as it came when a part is missing or not a power of two."""
    hashed = spec.get("hash") or {}
    salt = spec.get("salt") or {}
    try:
        cost = int(spec.get("cost", 16384))
        if cost < 2 or cost & (cost - 1):
            return dict(spec)
        derived = _b64_bytes(str(hashed["value"]), str(hashed.get("encoding", "base64")))
        salted = _b64_bytes(str(salt["value"]), str(salt.get("encoding", "base64")))
        block, parallel = int(spec.get("blockSize", 8)), int(spec.get("parallelization", 1))
    except (KeyError, ValueError, TypeError, binascii.Error):
        return dict(spec)
    params = f"ln={cost.bit_length() - 1},r={block},p={parallel}"
    return f"$scrypt${params}${_phc_b64(salted)}${_phc_b64(derived)}"


def _auth0_password_hash(spec: Any) -> Any:
    """Auth0's `custom_password_hash` → a `passwordHash` form (see the module docstring)."""
    if not isinstance(spec, Mapping):
        return spec
    algorithm = str(spec.get("algorithm", "")).lower()
    hashed = spec.get("hash")
    value = hashed.get("value") if isinstance(hashed, Mapping) else None
    if algorithm in ("bcrypt", "argon2", "pbkdf2", "ldap") and isinstance(value, str):
        return value  # self-describing: bcrypt, PHC argon2, PHC `$pbkdf2-<digest>$i=..,l=..`
    if algorithm == "scrypt":
        return _auth0_scrypt(spec)
    if algorithm in ("md4", "md5", "sha1", "sha256", "sha512", "hmac"):
        return _auth0_digest_hash(algorithm, spec)
    return dict(spec)


def _auth0(record: Mapping[str, Any]) -> dict[str, Any]:
    """One line of Auth0's bulk user export (JSON Lines), or of its bulk-import file, or of
    a password-hash export from Auth0 support (`_id`, `passwordHash`)."""
    user_id = record.get("user_id")
    raw_id = record.get("_id")
    if not _present(user_id) and raw_id is not None:
        user_id = raw_id.get("$oid") if isinstance(raw_id, Mapping) else raw_id
    if not any(_present(v) for v in (user_id, record.get("email"), record.get("username"))):
        raise UnmappableRecord("Auth0 user has no user_id, email or username")
    row: dict[str, Any] = {}
    _set(row, "email", record.get("email"))
    _set(row, "isEmailConfirmed", _flag(record.get("email_verified")))
    _set(row, "username", record.get("username"))
    _set(row, "name", record.get("name"))
    _set(row, "image", record.get("picture"))
    _set(row, "phoneNumber", record.get("phone_number"))
    _set(row, "isPhoneNumberConfirmed", _flag(record.get("phone_verified")))
    if record.get("blocked") is True:
        row["locked"] = True
    metadata = record.get("user_metadata")
    if isinstance(metadata, Mapping) and metadata:
        _data(row).update(metadata)
    app_metadata = record.get("app_metadata")
    if isinstance(app_metadata, Mapping):
        rest = {k: v for k, v in app_metadata.items() if k != "roles"}
        if isinstance(app_metadata.get("roles"), list) and app_metadata["roles"]:
            row["roles"] = list(app_metadata["roles"])
        if rest:
            _data(row)["auth0AppMetadata"] = rest
    if _present(user_id):
        _data(row)["auth0UserId"] = user_id
    if _present(record.get("created_at")):
        row["createdAt"] = _timestamp(record["created_at"])
    if _present(record.get("custom_password_hash")):
        row["passwordHash"] = _auth0_password_hash(record["custom_password_hash"])
    else:
        _set(row, "passwordHash", record.get("password_hash", record.get("passwordHash")))
    return row


# ---------------------------------------------------------------------------- firebase


# A Firebase auth:export user's fields as row fields.
_FIREBASE_FIELDS = {
    "email": "email",
    "name": "displayName",
    "image": "photoUrl",
    "phoneNumber": "phoneNumber",
}


def _firebase(record: Mapping[str, Any]) -> dict[str, Any]:
    """One element of `firebase auth:export --format=json` `users`."""
    local_id = record.get("localId")
    if not _present(local_id) and not _present(record.get("email")):
        raise UnmappableRecord("Firebase user has no localId or email")
    row: dict[str, Any] = {}
    _copy(row, record, _FIREBASE_FIELDS, {"isEmailConfirmed": "emailVerified"})
    if _flag(record.get("disabled")) is True:
        row["locked"] = True
    if _present(local_id):
        _data(row)["firebaseUid"] = local_id
    claims = record.get("customAttributes")
    if isinstance(claims, str) and claims.strip():
        try:
            parsed = json.loads(claims)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and parsed:
            _data(row)["firebaseCustomClaims"] = parsed
    if _present(record.get("createdAt")):
        row["createdAt"] = _timestamp(record["createdAt"], epoch_unit=1000.0)
    hashed, salt = record.get("passwordHash"), record.get("salt")
    if _present(hashed):
        shaped: dict[str, Any] = {"algorithm": "firebase-scrypt", "hash": hashed, "salt": salt}
        try:  # the CLI writes standard base64; web-safe copies are made standard
            shaped["hash"] = _b64(_b64_bytes(str(hashed)))
            shaped["salt"] = _b64(_b64_bytes(str(salt))) if _present(salt) else ""
        except (ValueError, binascii.Error):
            pass
        row["passwordHash"] = shaped
    return row


_PRESETS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "userfront": _userfront,
    "csv": _csv,
    "cognito": _cognito,
    "auth0": _auth0,
    "firebase": _firebase,
}
