"""The link duration parser (api-server §1.12): shape, units, bounds and the fixed message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portcullis.platform.durations import describe, parse_duration
from portcullis.platform.errors import BadRequest

MESSAGE = '"options.duration" must be between 10 seconds and 1 week'


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30 seconds", 30),
        ("1 minute", 60),
        ("5 minutes", 300),
        ("6 hours", 21_600),
        ("2 days", 172_800),
        ("1 week", 604_800),
        ("10 seconds", 10),
        ("10 second", 10),
        ("7 days", 604_800),
        ("168 hours", 604_800),
        ("  3 Days  ", 259_200),
        ("1 WEEK", 604_800),
        ("2\thours", 7_200),
        ("1 weeks", 604_800),
        ("10080 minutes", 604_800),
    ],
)
def test_valid_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "9 seconds",
        "0 seconds",
        "604801 seconds",
        "8 days",
        "2 weeks",
        "1.5 hours",
        "-1 day",
        "+1 day",
        "1e3 seconds",
        "1 fortnight",
        "1 month",
        "hours",
        "1",
        "1hour",
        "",
        "   ",
        "one hour",
        "1 hour ago",
        "١ hour",
        "²0 seconds",
        "99999999999999999999 seconds",
    ],
)
def test_invalid_durations_give_the_fixed_message(text: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_duration(text)
    assert caught.value.message == MESSAGE
    assert caught.value.status_code == 400


@pytest.mark.parametrize("value", [None, 3600, 1.5, True, ["1 hour"], {"n": 1}])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_duration(value)
    assert caught.value.message == MESSAGE


def test_field_name_and_bounds_are_configurable() -> None:
    assert parse_duration("1 minute", field="duration", minimum=60, maximum=3600) == 60
    with pytest.raises(BadRequest) as caught:
        parse_duration("2 hours", field="duration", minimum=60, maximum=3600)
    assert caught.value.message == '"duration" must be between 1 minute and 1 hour'


@given(st.integers(min_value=10, max_value=604_800))
def test_every_second_count_in_range_round_trips(seconds: int) -> None:
    assert parse_duration(f"{seconds} seconds") == seconds


@given(st.text(max_size=30))
def test_arbitrary_text_never_raises_anything_but_bad_request(text: str) -> None:
    try:
        result = parse_duration(text)
    except BadRequest as exc:
        assert exc.message == MESSAGE
    else:
        assert 10 <= result <= 604_800


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3600, "1 hour"),
        (259_200, "3 days"),
        (604_800, "1 week"),
        (90, "90 seconds"),
        (120, "2 minutes"),
    ],
)
def test_describe(seconds: int, text: str) -> None:
    assert describe(seconds) == text
