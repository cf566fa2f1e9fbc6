"""Request bodies of the user, role and link endpoints of the server API (api-server
§7, §9, §13), in one place: the users and roles functions validate them.

The profile fields they carry follow `users/fields.py` (one rule and one message per
field). Durations stay untyped here because `durations.parse_duration` gives the spec's
exact message for every bad value, including non-strings.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portcullis.platform.identifiers import UUID_PATTERN
from portcullis.platform.models import STRICT as _STRICT
from portcullis.users.fields import Checked, Email, ImageUrl, Name, Phone, Username, UserWrite


class UserCreate(UserWrite):
    # The document says what `service.check_identifiers` demands: an email, a username
    # or a phone number (a string, not null).
    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("email", "username", "phoneNumber")
            ]
        },
    )
    roles: list[str] | None = None


class UserCreateOrUpdate(UserWrite):
    userId: Annotated[int, Field(ge=1, le=10**15)] | None = None
    userUuid: Annotated[str, Field(pattern=UUID_PATTERN)] | None = None
    uuid: Annotated[str, Field(pattern=UUID_PATTERN)] | None = None


class InviteOptions(BaseModel):
    model_config = _STRICT
    type: Literal["welcome", "reset"] = "welcome"
    duration: Any = None  # parsed by durations.parse_duration for the spec's message
    noInviteEmail: bool = False


class UserInvite(Checked):
    email: Email
    username: Username | None = None
    name: Name | None = None
    image: ImageUrl | None = None
    phoneNumber: Phone | None = None
    data: dict[str, Any] | None = None
    options: InviteOptions | None = None


class LinkOptions(BaseModel):
    model_config = _STRICT
    type: Literal["login", "welcome", "verify", "reset"] = "login"
    duration: Any = None


class LinkGenerate(Checked):
    email: Email | None = None
    userId: Annotated[int, Field(ge=1, le=10**15)] | None = None
    userUuid: Annotated[str, Field(pattern=UUID_PATTERN)] | None = None
    options: LinkOptions | None = None


class RoleInvite(Checked):
    """Invite user to a role (§9.4): an invitation plus the roles to add (at least one)."""

    email: Email
    roles: Annotated[list[str], Field(min_length=1)]
    username: Username | None = None
    name: Name | None = None
    image: ImageUrl | None = None
    phoneNumber: Phone | None = None
    data: dict[str, Any] | None = None
    options: InviteOptions | None = None


class RoleName(BaseModel):
    model_config = _STRICT
    name: str


class RoleList(BaseModel):
    model_config = _STRICT
    roles: list[str]
