"""Link lifetimes written as text (`"30 seconds"`, `"6 hours"`, `"1 week"`) (api-server §1.12).

The wire format is the reference's: a positive integer, one space (any amount of
whitespace is tolerated), and a unit. Units are case-insensitive and may be singular
or plural; decimals, signs and exponents are refused so that `"1e3 seconds"` or
`"-1 day"` can never slip through as something unexpected. Every failure, including a
value outside the allowed range, gets the one message the spec fixes, because callers
compare against that text.
"""

from __future__ import annotations

import re
from typing import Any

from portcullis.platform.errors import BadRequest

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

MINIMUM_SECONDS = 10
MAXIMUM_SECONDS = WEEK

UNITS: dict[str, int] = {
    "second": 1,
    "seconds": 1,
    "minute": MINUTE,
    "minutes": MINUTE,
    "hour": HOUR,
    "hours": HOUR,
    "day": DAY,
    "days": DAY,
    "week": WEEK,
    "weeks": WEEK,
}

# ASCII digits only: `str.isdigit` would also accept "²" or Arabic-Indic digits.
_PATTERN = re.compile(r"^\s*([0-9]{1,12})\s+([A-Za-z]+)\s*$")


def _range_words(seconds: int) -> str:
    """`10` → "10 seconds", `604800` → "1 week": the bounds as the message states them."""
    for size, word in ((WEEK, "week"), (DAY, "day"), (HOUR, "hour"), (MINUTE, "minute")):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {word}" if count == 1 else f"{count} {word}s"
    return f"{seconds} second" if seconds == 1 else f"{seconds} seconds"


def parse_duration(
    text: Any,
    *,
    field: str = "options.duration",
    minimum: int = MINIMUM_SECONDS,
    maximum: int = MAXIMUM_SECONDS,
) -> int:
    """Seconds in `text`, or BadRequest `"<field>" must be between 10 seconds and 1 week`.

    Accepts anything a JSON body can hold so callers can pass the raw value; only a
    string of the documented shape within [minimum, maximum] is valid.
    """
    message = f'"{field}" must be between {_range_words(minimum)} and {_range_words(maximum)}'
    if not isinstance(text, str):
        raise BadRequest(message)
    match = _PATTERN.match(text)
    if match is None:
        raise BadRequest(message)
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit not in UNITS:
        raise BadRequest(message)
    seconds = count * UNITS[unit]
    if not minimum <= seconds <= maximum:
        raise BadRequest(message)
    return seconds


def describe(seconds: int) -> str:
    """Human text for emails ("expires in 3 days"); the largest unit that divides evenly."""
    return _range_words(max(1, int(seconds)))
