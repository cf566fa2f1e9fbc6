from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portcullis.platform.validation import describe, field_path, first_message


class Inner(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    limit: Annotated[int, Field(ge=1)]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=5)]
    kind: Literal["admin", "readonly"] = "admin"
    items: list[Inner] = []


def message_for(payload: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate(payload)
    return first_message(caught.value.errors())


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, '"name" is required'),
        ({"name": 5}, '"name" must be a string'),
        ({"name": ""}, '"name" must contain at least 1 characters'),
        ({"name": "toolong"}, '"name" must contain at most 5 characters'),
        ({"name": "a", "kind": "x"}, '"kind" must be one of [admin, readonly]'),
        ({"name": "a", "extra": 1}, '"extra" is not allowed'),
        ({"name": "a", "items": [{"limit": 0}]}, '"items[0].limit" must be at least 1'),
        ({"name": "a", "items": [{"limit": "1"}]}, '"items[0].limit" must be an integer'),
        ({"name": "a", "items": {}}, '"items" must be an array'),
    ],
)
def test_messages_name_the_field(payload: object, expected: str) -> None:
    assert message_for(payload) == expected


def test_field_path_drops_request_part() -> None:
    assert field_path(("body", "filters", 0, "attr")) == "filters[0].attr"
    assert field_path(("body",)) == "body"


def test_invalid_json_is_named() -> None:
    assert describe({"type": "json_invalid", "loc": ("body", 1)}) == '"body" must be valid JSON'
