"""Turn pydantic validation errors into one envelope message that names the field.

Messages follow the reference's style: `"<field path>" <problem>` (api-server §1.1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from portcullis.platform.errors import BadRequest

_PROBLEMS: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not allowed",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be a boolean",
    "bool_parsing": "must be a boolean",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be an array",
    "url_type": "must be a valid URL",
    "url_parsing": "must be a valid URL",
    "url_scheme": "must be an http(s) URL",
    "uuid_type": "must be a valid UUID",
    "uuid_parsing": "must be a valid UUID",
}


def field_path(loc: Sequence[Any]) -> str:
    """`("body", "a", 0, "b")` → `a[0].b`; the first element names the request part."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    if not path and loc:
        return str(loc[0])
    return path


def describe(error: Mapping[str, Any]) -> str:
    """One human message for one pydantic error dict."""
    kind = error.get("type", "")
    loc = error.get("loc", ())
    if kind == "json_invalid":
        return '"body" must be valid JSON'
    name = field_path(loc)
    ctx = error.get("ctx") or {}
    if kind in _PROBLEMS:
        problem = _PROBLEMS[kind]
    elif kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("'", "")
        choices = [c.strip() for c in expected.replace(" or ", ",").split(",") if c.strip()]
        problem = f"must be one of [{', '.join(choices)}]"
    elif kind in ("string_too_short", "too_short"):
        limit = ctx.get("min_length", 1)
        unit = "characters" if kind == "string_too_short" else "items"
        problem = f"must contain at least {limit} {unit}"
    elif kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        unit = "characters" if kind == "string_too_long" else "items"
        problem = f"must contain at most {limit} {unit}"
    elif kind in ("greater_than_equal", "greater_than"):
        problem = f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    elif kind in ("less_than_equal", "less_than"):
        problem = f"must be at most {ctx.get('le', ctx.get('lt'))}"
    elif kind == "string_pattern_mismatch":
        problem = "has an invalid format"
    elif kind == "value_error":
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        return message if message.startswith('"') else f'"{name}" {message}'
    else:
        problem = "is invalid"
    return f'"{name}" {problem}'


def first_message(errors: Sequence[Mapping[str, Any]]) -> str:
    return describe(errors[0]) if errors else '"body" is invalid'


def bad_request_from(exc: ValidationError) -> BadRequest:
    return BadRequest(first_message(exc.errors()))
