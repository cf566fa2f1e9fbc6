"""Integers from text a client sent (query strings, body values that may be strings).

Why a module of its own: `str.isdigit()` is true for "²" and other non-ASCII digits
that `int()` refuses, and `int()` refuses more than 4,300 digits (Python's int-string
limit), so the obvious `raw.isdigit() and int(raw)` turns such input into a 500. Here
only ASCII digits of a bounded length are read, and a bad value is a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

from portcullis.platform.errors import BadRequest

# Enough for any page number, count or id the API takes; far below int()'s limit.
MAX_DIGITS = 15
_ASCII_DIGITS = frozenset("0123456789")


def _digits(text: str) -> int | None:
    """The value of 1..MAX_DIGITS ASCII digits, else None."""
    if not 0 < len(text) <= MAX_DIGITS or not set(text) <= _ASCII_DIGITS:
        return None
    return int(text)


def read(value: Any) -> int | None:
    """A JSON integer or a string of ASCII digits, else None (never raises).

    Booleans are not integers on the wire; integers of more than MAX_DIGITS digits are
    refused like bad text, so a value read here is always small enough to compute with.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**MAX_DIGITS else None
    if isinstance(value, str):
        return _digits(value.strip())
    return None


def bounded(name: str, value: Any, *, minimum: int = 1, maximum: int | None = None) -> int:
    """`value` read as an integer in [minimum, maximum]; otherwise a 400 naming `name`."""
    parsed = read(value)
    if parsed is None or parsed < minimum or (maximum is not None and parsed > maximum):
        if maximum is not None:
            raise BadRequest(f'"{name}" must be between {minimum} and {maximum}')
        if minimum == 1:
            raise BadRequest(f'"{name}" must be a positive integer')
        raise BadRequest(f'"{name}" must be an integer of at least {minimum}')
    return parsed


def query_int(
    params: dict[str, str] | None,
    name: str,
    default: int,
    *,
    minimum: int = 1,
    maximum: int | None = None,
) -> int:
    """The query parameter `name` as a bounded integer, `default` when absent."""
    raw = (params or {}).get(name)
    if raw is None:
        return default
    return bounded(name, raw, minimum=minimum, maximum=maximum)
