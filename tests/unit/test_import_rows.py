"""Import rows and files without AWS (api-server §1.10, §10.1; concepts §7.4): the row
check and its messages, duplicates within a file, and the streaming readers of JSON
Lines, JSON arrays and CSV, fed in pieces smaller than a record."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from portcullis.imports import reader, rows
from portcullis.platform.errors import BadRequest

RULES = rows.RowRules(source="userfront", mode="test", tenant_id="t1", roles=frozenset({"admin"}))


def _check(record: Any, seen: rows.Seen | None = None, rules: rows.RowRules = RULES) -> dict:
    return rows.check(0, record, rules, seen or rows.Seen())


def _problem(record: Any, rules: rows.RowRules = RULES) -> str:
    with pytest.raises(BadRequest) as raised:
        _check(record, rules=rules)
    return raised.value.message


def test_a_good_row_is_kept_as_given_with_its_id_and_timestamp_normalised() -> None:
    row = _check(
        {
            "id": 42,
            "email": "A@Example.com",
            "roles": {"t1": ["admin", "admin"]},
            "createdAt": "2020-01-02T03:04:05+01:00",
            "totpSecret": "jbsw y3dp ehpk 3pxp",
            "passwordHash": "$argon2id$v=19$m=8192,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        }
    )
    assert row["userId"] == 42 and row["email"] == "A@Example.com"
    assert row["roles"] == ["admin"]
    assert row["createdAt"] == "2020-01-02T02:04:05.000Z"
    assert row["totpSecret"] == "JBSWY3DPEHPK3PXP"
    assert row["passwordHash"].startswith("$argon2id$")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"email": "nope"}, '"email" must be a valid email'),
        ({"email": "a@b.co", "userId": "7"}, '"userId" must be an integer'),
        ({"email": "a@b.co", "userId": 0}, '"userId" must be at least 1'),
        ({"email": "a@b.co", "extra": 1}, '"extra" is not allowed'),
        ({"email": "a@b.co", "password": "pw", "passwordHash": "x"}, None),
        ({"email": "a@b.co", "passwordHash": "plain"}, '"passwordHash" has an unrecognised format'),
        ({"email": "a@b.co", "roles": ["editor"]}, 'Role "editor" does not exist'),
        ({"email": "a@b.co", "roles": {"other": ["admin"]}}, None),
        ({"email": "a@b.co", "totpSecret": "not base32!"}, '"totpSecret" must be a base32 secret'),
        ({"email": "a@b.co", "createdAt": "yesterday"}, None),
        ({"email": "a@b.co", "password": "short"}, None),
        ({"name": "nobody"}, '"email" is required'),
        ([1, 2], '"users[0]" must be an object'),
    ],
)
def test_bad_rows_name_their_problem(record: Any, message: str | None) -> None:
    problem = _problem(record)
    assert problem.startswith(('"', "Role", "Password")), problem
    if message is not None:
        assert problem == message


def test_the_password_policy_can_be_skipped() -> None:
    lax = rows.RowRules(
        source="userfront",
        mode="test",
        tenant_id="t1",
        roles=frozenset(),
        skip_password_policy=True,
    )
    assert _check({"email": "a@b.co", "password": "short"}, rules=lax)["password"] == "short"


def test_duplicates_within_the_file_by_user_id_email_and_username() -> None:
    seen = rows.Seen()
    rows.check(0, {"email": "a@b.co", "username": "Ann", "userId": 5}, RULES, seen)
    for index, record in enumerate(
        [
            {"email": "A@B.CO"},
            {"email": "x@b.co", "username": "ann"},
            {"email": "y@b.co", "userId": 5},
        ],
        start=1,
    ):
        with pytest.raises(BadRequest) as raised:
            rows.check(index, record, RULES, seen)
        assert "is duplicated in the file (row 0)" in raised.value.message
    # A row that failed claims nothing: its email stays free for a later row.
    with pytest.raises(BadRequest):
        rows.check(4, {"email": "z@b.co", "userId": "x"}, RULES, seen)
    rows.check(5, {"email": "z@b.co"}, RULES, seen)


def test_a_row_error_keeps_only_well_typed_identifiers() -> None:
    assert rows.error_of(3, {"userId": 12, "email": "x@example.com"}, "m") == {
        "index": 3,
        "userId": 12,
        "email": "x@example.com",
        "message": "m",
    }
    assert rows.error_of(4, {"userId": "12", "email": 5}, "m")["userId"] is None
    assert rows.error_of(5, "text", "m")["email"] is None


# ------------------------------------------------------------------ readers


class Trickle(io.RawIOBase):
    """A stream that hands out at most `step` bytes per read (records cut anywhere)."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self.data, self.step, self.at = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        piece = self.data[self.at : self.at + min(self.step, len(buffer))]
        buffer[: len(piece)] = piece
        self.at += len(piece)
        return len(piece)

    def read(self, size: int = -1) -> bytes:
        size = self.step if size < 0 else min(size, self.step)
        piece = self.data[self.at : self.at + size]
        self.at += len(piece)
        return piece


RECORDS = [
    {"email": f"u{n}@example.com", "name": "Zoë \u00e9", "data": {"n": n}} for n in range(30)
]


@pytest.mark.parametrize("step", [1, 5, 64 * 1024])
def test_json_lines_and_arrays_read_record_by_record(step: int) -> None:
    lines = "\n".join(json.dumps(r) for r in RECORDS).encode()
    assert list(reader.records(Trickle(b"\xef\xbb\xbf" + lines, step), "jsonl")) == RECORDS
    array = (" [ " + " ,\n".join(json.dumps(r) for r in RECORDS) + " ] ").encode()
    assert list(reader.records(Trickle(array, step), "json")) == RECORDS
    numbers = b'[1, 23456, -7.5e3, "x"]'
    assert list(reader.records(Trickle(numbers, step), "json")) == [1, 23456, -7500.0, "x"]


def test_a_bad_line_is_one_unreadable_record_and_a_bad_array_is_a_bad_file() -> None:
    found = list(reader.records(io.BytesIO(b'{"a": 1}\n{oops\n\n{"b": 2}\n'), "jsonl"))
    assert found == [{"a": 1}, reader.Unreadable("the line is not valid JSON"), {"b": 2}]
    for bad in (b'{"a": 1}', b"[1, 2", b"[1 2]", b"[{]"):
        with pytest.raises(reader.BadFile):
            list(reader.records(io.BytesIO(bad), "json"))
    assert list(reader.records(io.BytesIO(b" [ ] "), "json")) == []
    with pytest.raises(reader.BadFile):
        list(reader.records(io.BytesIO(b"\xff\xfe\x00"), "jsonl"))


def test_csv_reads_a_header_row_and_typed_columns() -> None:
    content = (
        "\ufeffid,email,isEmailConfirmed,roles,data,name\r\n"
        '7,a@b.co,true,"admin; editor","{""plan"": ""pro""}",Ann\r\n'
        ",c@d.co,,,,\r\n"
        "\r\n"
        "8,e@f.co,false,,,Eve,extra\r\n"
    ).encode()
    found = list(reader.records(Trickle(content, 3), "csv"))
    assert found[0] == {
        "id": 7,
        "email": "a@b.co",
        "isEmailConfirmed": True,
        "roles": ["admin", "editor"],
        "data": {"plan": "pro"},
        "name": "Ann",
    }
    assert found[1] == {"email": "c@d.co"}
    assert found[2] == reader.Unreadable("the row has more cells than the header")
    assert len(found) == 3
