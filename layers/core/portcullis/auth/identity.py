"""The user fields the sign-up paths accept (api-client §6), checked once for all of them.

Email and phone number use the client contract's messages (`Email format is invalid`,
`Phone number must be in E.164 format.`), which the toolkit shows verbatim; the other
profile fields follow the same rules as the server API (`userfields.UserWrite`), so a
field has one rule wherever a user is created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from portcullis.auth.context import Request
from portcullis.credentials import passwords
from portcullis.platform import customdata
from portcullis.platform.errors import BadRequest
from portcullis.platform.identifiers import PHONE
from portcullis.platform.validation import bad_request_from
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.tenancy.settings import EMAIL_PATTERN
from portcullis.tokens import claims
from portcullis.users import records
from portcullis.users import service as users
from portcullis.users.conflicts import CONFLICT_MESSAGES
from portcullis.users.fields import UserWrite
from portcullis.users.rendering import Renderer

EMAIL_INVALID = "Email format is invalid"
PHONE_INVALID = "Phone number must be in E.164 format."
DATA_TOO_LARGE = "data is too large"
EMAIL_EXISTS = "Email exists"
PHONE_EXISTS = "Phone number exists"
# The longest email address (RFC 5321) and longer than any username: no account has more.
MAX_IDENTIFIER_LENGTH = 254
# The client contract's wording for taken identifiers (api-client §6.1, §9.10).
CONFLICTS = {
    CONFLICT_MESSAGES["email"]: EMAIL_EXISTS,
    CONFLICT_MESSAGES["username"]: "Username exists",
    CONFLICT_MESSAGES["phoneNumber"]: PHONE_EXISTS,
}


def required(value: Any, message: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadRequest(message)
    return value


def email(value: str) -> str:
    """A valid address, lowercased (the form every index and guard uses)."""
    address = value.strip()
    if len(address) > MAX_IDENTIFIER_LENGTH or not EMAIL_PATTERN.match(address):
        raise BadRequest(EMAIL_INVALID)
    return address.lower()


def phone(value: str) -> str:
    number = value.strip()
    if not PHONE.match(number):
        raise BadRequest(PHONE_INVALID)
    return number


def profile(**fields: Any) -> dict[str, Any]:
    """Validate optional profile fields (username, name, image, data) by the server rules."""
    given = {k: v for k, v in fields.items() if v is not None}
    try:
        UserWrite.model_validate(given)
    except ValidationError as exc:
        raise bad_request_from(exc) from exc
    if "data" in given:
        customdata.check_data_size(given["data"])
    return given


def client_conflict(exc: BadRequest) -> BadRequest:
    """`users.create`/`update` conflicts in the client contract's words."""
    message = CONFLICTS.get(exc.message)
    return BadRequest(message) if message else exc


def check_token_size(user: user_store.UserItem) -> None:
    """The ID token embeds the profile; one a browser would drop is refused (§1.3)."""
    if claims.id_token_size(user) > claims.MAX_ID_TOKEN_BYTES:
        raise BadRequest(DATA_TOO_LARGE)


def new_user(
    req: Request,
    *,
    email_address: str | None = None,
    phone_number: str | None = None,
    password: str | None = None,
    fields: dict[str, Any] | None = None,
) -> user_store.UserItem:
    """Build (not write) a user signing up in this request's tenant and mode (§6).

    Checks everything a client can get wrong before the userId is allocated, so a
    rejected sign-up does not use up an id.
    """
    fields = fields or {}
    if password is not None:
        passwords.check_policy(password, req.mode)
    probe = user_store.new_user_item(
        req.mode,
        req.tenant_id,
        0,
        userUuid="00000000-0000-0000-0000-000000000000",
        email=email_address,
        phoneNumber=phone_number,
        username=fields.get("username"),
        name=fields.get("name") or "",
        image=fields.get("image"),
        data=fields.get("data") or {},
        createdAt="2000-01-01T00:00:00.000Z",
        updatedAt="2000-01-01T00:00:00.000Z",
    )
    check_token_size(probe)
    return records.new_user(
        req.mode,
        req.tenant_id,
        email=email_address,
        phone_number=phone_number,
        username=fields.get("username"),
        name=fields.get("name"),
        image=fields.get("image"),
        data=fields.get("data"),
        password=password,
        is_mfa_required=req.settings.mfa.policy == "all",
    )


def renderer(req: Request) -> Renderer:
    """Renders webhook records with the tenant and settings this request already holds."""
    return Renderer(req.tenant, req.settings, {req.tenant.tenantId: req.tenant})


def create(
    req: Request,
    user: user_store.UserItem,
    saves: list[user_store.Item],
    updates: list[transactions.Update] | None = None,
) -> None:
    """Write a new user with its `user.create` event, `saves` and `updates` (counters
    that must count this very creation, e.g. a passthrough migration), all or nothing."""
    try:
        extra = user_store.Extra(saves, [], list(updates or []))
        users.create(user, extra, renderer=renderer(req))
    except BadRequest as exc:
        raise client_conflict(exc) from exc


def create_or_find(
    req: Request,
    user: user_store.UserItem,
    saves: list[user_store.Item],
    taken: str,
    find: Callable[[], user_store.UserItem | None],
) -> user_store.UserItem | None:
    """`create`, for a sign-up by link or code: None once written. When another request
    signed the identifier up a moment ago (`taken`), the user it made (`find`), to be
    sent to as an existing user; any other refusal stands."""
    try:
        create(req, user, saves)
    except BadRequest as exc:
        existing = find()
        if exc.message != taken or existing is None:
            raise
        return existing
    return None


def find_by_email(req: Request, address: str) -> user_store.UserItem | None:
    return user_store.get_by_email(req.mode, req.tenant_id, address)


def find_by_phone(req: Request, number: str) -> user_store.UserItem | None:
    """By the phone guard, then the record; a miss still costs the second read, so an
    unknown number answers as slowly as a known one."""
    user_id = user_store.user_id_by_guard(req.mode, req.tenant_id, "phoneNumber", number)
    return user_store.get_user(req.mode, req.tenant_id, user_id or 0)


def find_by_username(req: Request, username: str) -> user_store.UserItem | None:
    user_id = user_store.user_id_by_guard(req.mode, req.tenant_id, "username", username)
    return user_store.get_user(req.mode, req.tenant_id, user_id or 0)
