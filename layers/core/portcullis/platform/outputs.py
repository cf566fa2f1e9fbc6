"""The answer shapes many routes share, as pydantic models for the OpenAPI document
(docs/openapi.md): the base of every answer model, the `{message}` acknowledgement, the
list envelope (api-server §1.9) and the `{message, result}` outcome of an action.

Each package declares its own answers in `<package>/outputs.py` on these; routes name
them by reference (`portcullis.platform.http.answers("portcullis.auth.outputs:SignedIn")`,
in `<package>/responses.py`). Documentation only: the flows build their answers as dicts
and nothing validates them at run time, so no function imports this module or any
`outputs.py` (neither their import nor a route's first request pays for the models); only
the generator does (`infra/openapi.py`). The tests check live answers against the
document (`tests/api/conformance.py`, schemathesis).
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from portcullis.platform.models import OPEN

T = TypeVar("T")

Mode = Literal["test", "live"]
"""The mode of a tenant's data an answer belongs to."""


class Answer(BaseModel):
    """An answer names the fields it always carries and may carry more
    (`additionalProperties`): a new field is no break of the document."""

    model_config = OPEN


class Message(Answer):
    """A link or code sent, a password reset requested, an action done (api-client §1.7)."""

    message: str


class Page(Answer, Generic[T]):
    """The one list envelope (api-server §1.9, `search.envelope.list_envelope`); search
    endpoints and the paged lists add `meta`."""

    totalCount: int
    totalPages: int
    results: list[T]


class Done(Message, Generic[T]):
    """`{message: "OK", result}`: the outcome of an action and what it touched."""

    result: T


class Results(Answer, Generic[T]):
    """`{results}` alone: a short list that is never paged."""

    results: list[T]


Free = dict[str, Any]
"""A free-form object (custom data, a provider's claims): any JSON object."""
