"""Parsing request bodies: JSON whose values are all safe to compute with and to store.

Why: `json.loads` accepts documents that are valid JSON yet fail later, far from the
parser, as a 500: an integer of more than 4,300 digits (Python's int-string limit
raises inside the parser, as a ValueError the framework does not expect), a string
holding an unpaired surrogate such as "\\ud800" (valid JSON, but not text: it fails
wherever it is encoded, e.g. in a DynamoDB key, where pynamodb wraps the error), a
number such as 1e999 that becomes infinity, and the non-standard `NaN`/`Infinity`.
Every JSON body goes through `loads` (the resolver's `json_body_deserializer` and
`requests.json_body`), so each of those is refused once, as a 400 naming the field.
"""

from __future__ import annotations

import json
import math
from typing import Any

from portcullis.platform.errors import BadRequest

# Integers the API stores or compares never come near this; far below int()'s limit.
MAX_INT_DIGITS = 100
_MAX_PATH_CHARS = 200


class InvalidValue(BadRequest):
    """A value of a syntactically valid JSON body that Portcullis refuses (400)."""


class _Refused:
    """Stands in, while parsing, for a value refused by a hook; `problem` says why."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


_TOO_LONG = _Refused(f"must be an integer of at most {MAX_INT_DIGITS} digits")
_NOT_FINITE = _Refused("must be a finite number")
_NOT_TEXT = "must be valid Unicode text (no unpaired surrogates)"


def _parse_int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return _TOO_LONG
    return int(text)


def _parse_float(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _NOT_FINITE


def _parse_constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are not JSON (RFC 8259); JSONDecodeError is what the
    # framework turns into '"body" must be valid JSON'.
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def _refuse(path: str, problem: str) -> InvalidValue:
    name = ("body" + path if path.startswith("[") else path or "body")[:_MAX_PATH_CHARS]
    return InvalidValue(f'"{name}" {problem}')


def check(document: Any) -> None:
    """Raise `InvalidValue` naming the first refused value of a parsed document.

    Iterative, so a document nested as deep as the parser allows cannot exhaust the stack.
    """
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not _is_text(value):
                raise _refuse(path, _NOT_TEXT)
        elif isinstance(value, _Refused):
            raise _refuse(path, value.problem)
        elif isinstance(value, dict):
            children: list[tuple[str, Any]] = []
            for key, item in value.items():
                if not _is_text(key):
                    raise _refuse(path, "must have keys that are valid Unicode text")
                children.append((_join(path, key), item))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(_join(path, i), item) for i, item in enumerate(value)]))


def loads(text: str | bytes) -> Any:
    """`json.loads` that refuses what the module docstring lists.

    Malformed JSON raises `json.JSONDecodeError` (a ValueError) and nesting deeper than
    the parser's recursion limit `RecursionError`, as `json.loads` does; refused values
    raise `InvalidValue` (a 400 naming the field).
    """
    document = json.loads(
        text,
        parse_int=_parse_int,
        parse_float=_parse_float,
        parse_constant=_parse_constant,
    )
    check(document)
    return document
