"""A user's writable fields (api-server §1.4): the rule and message of each profile
field, and `UserWrite`, the fields a user body may set.

Shared by every body that carries profile fields: the server API's user, role and link
bodies (`users/inputs.py`), a sign-up's user fields (`auth.identity`) and imported rows,
so that one field gets one rule and one message everywhere. Models are strict (no type
coercion) and reject unknown top-level fields (`"foo" is not allowed`, §3); free-form
objects (`data`) accept any keys.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationInfo, WithJsonSchema, field_validator

from portcullis.platform.identifiers import PHONE
from portcullis.platform.models import STRICT as _STRICT
from portcullis.tenancy.settings import EMAIL_PATTERN

_USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{1,100}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)

# What each profile field must look like (§1.4), and the message that names the rule.
_PROFILE_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    "email": (
        lambda v: len(v) <= 254 and EMAIL_PATTERN.match(v.strip()) is not None,
        "must be a valid email",
    ),
    "username": (
        lambda v: _USERNAME.match(v) is not None,
        "must be 1-100 letters, digits or . _ @ + -",
    ),
    "phoneNumber": (
        lambda v: PHONE.match(v) is not None,
        "must be an E.164 phone number such as +15558675309",
    ),
    "image": (
        lambda v: len(v) <= 2048 and _URL.match(v) is not None,
        "must be an absolute http(s) URL of at most 2048 characters",
    ),
}

# The same rules in the OpenAPI document, as JSON schema only (the validator below keeps
# the spec's messages): clients and schemathesis then see what the server accepts.
Email = Annotated[
    str, WithJsonSchema({"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN.pattern})
]
Username = Annotated[str, WithJsonSchema({"type": "string", "pattern": _USERNAME.pattern})]
Phone = Annotated[str, WithJsonSchema({"type": "string", "pattern": PHONE.pattern})]
ImageUrl = Annotated[
    str, WithJsonSchema({"type": "string", "maxLength": 2048, "pattern": _URL.pattern})
]


class Checked(BaseModel):
    """Field rules of §1.4, shared by every body that carries profile fields."""

    model_config = _STRICT

    @field_validator("email", "username", "phoneNumber", "image", check_fields=False)
    @classmethod
    def _profile_field(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.field_name is not None:
            accepts, message = _PROFILE_RULES[info.field_name]
            if not accepts(value):
                raise ValueError(message)
        return value


Name = Annotated[str, Field(max_length=200)]


class UserWrite(Checked):
    """Writable fields (§1.4); `null` clears a nullable field on update."""

    email: Email | None = None
    username: Username | None = None
    name: Name | None = None
    image: ImageUrl | None = None
    phoneNumber: Phone | None = None
    data: dict[str, Any] | None = None
    password: str | None = None
    locked: bool | None = None
    isMfaRequired: bool | None = None
    isEmailConfirmed: bool | None = None
