"""`jsoninput.loads` and `integers`: refused values name their field; good ones pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portcullis.platform import integers, jsoninput
from portcullis.platform.errors import BadRequest


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": [1, {"b": "\\ud800"}]}', '"a[1].b" must be valid Unicode text'),
        ('{"n": ' + "9" * 5000 + "}", '"n" must be an integer of at most 100 digits'),
        ('{"n": -' + "9" * 101 + "}", '"n" must be an integer of at most 100 digits'),
        ("[1e999]", '"body[0]" must be a finite number'),
        ('{"\\udc00": 1}', '"body" must have keys that are valid Unicode text'),
        ('{"d": {"\\udc00": 1}}', '"d" must have keys that are valid Unicode text'),
        ('"\\ud800"', '"body" must be valid Unicode text'),
    ],
)
def test_refused_values_name_the_field(text: str, message: str) -> None:
    with pytest.raises(jsoninput.InvalidValue) as caught:
        jsoninput.loads(text)
    assert caught.value.message.startswith(message)
    assert isinstance(caught.value, BadRequest)


@pytest.mark.parametrize("text", ["NaN", '{"x": Infinity}', "[-Infinity]"])
def test_non_standard_constants_are_a_decode_error(text: str) -> None:
    """`json.loads` accepts these; `jsoninput` refuses them as the framework expects."""
    with pytest.raises(json.JSONDecodeError):
        jsoninput.loads(text)


@pytest.mark.parametrize(
    "value",
    [{"a": "\U0001f600", "n": -12, "f": 1.5, "big": int("9" * 100)}, [], "", None, True],
)
def test_good_documents_parse_as_json_loads_does(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=True)
    assert jsoninput.loads(text) == json.loads(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        (12, 12),
        ("²", None),
        ("\u0663", None),
        ("1_000", None),
        ("+1", None),
        ("-1", None),
        ("", None),
        ("9" * 16, None),
        (10**15, None),
        (True, None),
        (1.0, None),
        (None, None),
    ],
)
def test_integers_read_ascii_digits_only(value: Any, expected: int | None) -> None:
    assert integers.read(value) == expected


def test_bounded_names_the_field() -> None:
    assert integers.query_int({}, "page", 3) == 3
    assert integers.query_int({"limit": "100"}, "limit", 50, maximum=100) == 100
    with pytest.raises(BadRequest, match='"limit" must be between 1 and 100'):
        integers.query_int({"limit": "101"}, "limit", 50, maximum=100)
    with pytest.raises(BadRequest, match='"page" must be a positive integer'):
        integers.query_int({"page": "0"}, "page", 1)
