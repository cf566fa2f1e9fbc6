"""Reading request bodies that are free-form (search filters, settings patches)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from portcullis.platform import jsoninput
from portcullis.platform.errors import BadRequest


def json_body(app: APIGatewayRestResolver, *, default: Any = None) -> Any:
    """Parse the body as JSON (`jsoninput`: refused values are a 400 naming the field);
    an absent or empty body is `default`."""
    raw = app.current_event.body
    if raw is None or not raw.strip():
        return default
    try:
        return jsoninput.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep
        raise BadRequest('"body" must be valid JSON') from exc


def query(app: APIGatewayRestResolver, name: str) -> str | None:
    return (app.current_event.query_string_parameters or {}).get(name)


def query_bool(app: APIGatewayRestResolver, name: str, default: bool) -> bool:
    """A boolean query parameter: `true` or `false` exactly, `default` when absent; any
    other value is a 400 naming the parameter (never guessed)."""
    raw = query(app, name)
    if raw is None:
        return default
    if raw in ("true", "false"):
        return raw == "true"
    raise BadRequest(f'"{name}" must be a boolean')


def no_body(app: APIGatewayRestResolver) -> None:
    """A route that takes nothing accepts no body or `{}`; any field is named in the 400."""
    body = json_body(app, default={})
    if body is None or body == {}:
        return
    if not isinstance(body, dict):
        raise BadRequest('"body" must be an object')
    raise BadRequest(f'"{next(iter(body))}" is not allowed')
