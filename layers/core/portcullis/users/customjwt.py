"""Custom JWTs (api-server §12.3–12.6, concepts §2.7, §8.3; docs/tokens.md "Custom JWTs"):
the format of every user's access token in a tenant and mode, the catalogue of claims
it may use, and access tokens an administrator mints for a user or for a machine.

The format is kept with the tenant settings (`TenantSettings.jwtFormat`), which log-in
and refresh read anyway, so a format costs those no extra DynamoDB call; the template
language itself is `tokens.format`, the issuance hook `tokens.claims`.

A token minted for a user opens a session of kind `custom` (concepts §2.7; no refresh
token): it is revocable like any session, our own API accepts it only while that session
is live, and ending the user's sessions ends it. A machine token (no user) names no user
or session, so no endpoint of ours accepts it as a user's token; it is valid until `exp`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from portcullis.platform import config
from portcullis.platform.durations import DAY, parse_duration
from portcullis.platform.errors import BadRequest, NotFound
from portcullis.platform.identifiers import UUID_PATTERN
from portcullis.platform.models import STRICT as _STRICT
from portcullis.platform.timefmt import iso, now_iso
from portcullis.platform.validation import bad_request_from
from portcullis.sessions import lifecycle, webhookevents
from portcullis.store import sessions as session_store
from portcullis.store import tenants as tenant_store
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.tenancy import settings as tenant_settings
from portcullis.tenancy import state as tenant_state
from portcullis.tokens import claims as token_claims
from portcullis.tokens import format as jwtformat
from portcullis.tokens import signing
from portcullis.users import lookups

MIN_SECONDS = 10
MAX_SECONDS = 30 * DAY
MAX_PAYLOAD_BYTES = 8 * 1024
# "Read possible JWT claims": data keys of the 100 most recently updated users among
# the newest `SAMPLED_USERS` (one bounded Query: no index orders users by updatedAt).
SAMPLED_USERS = 500
RECENT_USERS = 100
MAX_DATA_PATHS = 200
MAX_EXAMPLE_BYTES = 1024

_SAMPLE_UUID = "00000000-0000-0000-0000-000000000000"


class FormatBody(BaseModel):
    """§12.4: a template, or `null` for the default claims."""

    model_config = _STRICT
    format: dict[str, Any] | None


class MintOptions(BaseModel):
    model_config = _STRICT
    duration: Any = None  # parsed by durations.parse_duration for the §1.12 message


class MintBody(BaseModel):
    """§12.3."""

    model_config = _STRICT
    payload: dict[str, Any]
    userId: Annotated[int, Field(ge=1, le=10**15)] | None = None
    userUuid: Annotated[str, Field(pattern=UUID_PATTERN)] | None = None
    options: MintOptions | None = None


Body = TypeVar("Body", bound=BaseModel)


def read_body(model: type[Body], raw: Any) -> Body:
    """A request body (already parsed JSON; absent is `{}`) as `model`, or the 400 that
    names the first bad field."""
    if raw is not None and not isinstance(raw, dict):
        raise BadRequest('"body" must be an object')
    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as refused:
        raise bad_request_from(refused) from None


# ----------------------------------------------------------------------- the format


def _format_json(settings: tenant_settings.TenantSettings) -> dict[str, Any]:
    stored = settings.jwtFormat
    if stored is None:
        return {"format": dict(jwtformat.DEFAULT_TEMPLATE), "isDefault": True, "updatedAt": None}
    return {"format": stored.format, "isDefault": False, "updatedAt": stored.updatedAt}


def read_format(tenant: tenant_store.TenantItem) -> dict[str, Any]:
    """§12.5: the stored format, or the template equivalent of the default claims."""
    return _format_json(tenant_settings.read(tenant.mode, tenant.tenantId))


def _smallest_token(tenant: tenant_store.TenantItem, template: dict[str, Any]) -> int:
    """Encoded size of the smallest token the format can give: every placeholder empty,
    the reserved claims at their usual sizes."""
    reserved = {
        "mode": tenant.mode,
        "tenantId": tenant.tenantId,
        "userId": 1,
        "userUuid": _SAMPLE_UUID,
        "sessionId": _SAMPLE_UUID,
        "authorization": {tenant.tenantId: {"roles": []}},
        "iss": config.issuer(),
        "iat": 2_000_000_000,
        "exp": 2_000_000_000,
    }
    return token_claims.encoded_size({**jwtformat.render(template, {}), **reserved})


def save_format(tenant: tenant_store.TenantItem, template: dict[str, Any] | None) -> dict[str, Any]:
    """§12.4: check and store the format of the tenant and mode (`None` removes it).

    Applies to access tokens issued afterwards; a warm Lambda instance of another
    function sees it within the tenant cache's few seconds (tenancy/state.py)."""
    mode, tenant_id = tenant.mode, tenant.tenantId
    if template is not None:
        jwtformat.validate(template)
        if _smallest_token(tenant, template) > token_claims.MAX_ACCESS_TOKEN_BYTES:
            raise BadRequest(
                f'"format" would make access tokens larger than '
                f"{token_claims.MAX_ACCESS_TOKEN_BYTES} bytes"
            )
    overrides = tenant_store.get_settings(mode, tenant_id)
    if template is None:
        overrides.pop("jwtFormat", None)
    else:
        overrides["jwtFormat"] = {"format": template, "updatedAt": now_iso()}
    tenant_store.put_settings(mode, tenant_id, overrides, now_iso())
    return _format_json(tenant_state.remember(mode, tenant, overrides).settings)


# ------------------------------------------------------------------------ the claims


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _addressable(key: str) -> bool:
    """A data key a `{{data.<key>}}` placeholder can name (no dot, no braces)."""
    return bool(key) and not any(c in key for c in ".{}") and key.strip() == key


def _data_paths(mode: str, tenant_id: str) -> list[dict[str, Any]]:
    sampled = user_store.newest_users(mode, tenant_id, SAMPLED_USERS)
    recent = sorted(sampled, key=lambda u: u.updatedAt or "", reverse=True)[:RECENT_USERS]
    seen: dict[str, Any] = {}
    for user in recent:
        for key, value in (user.data or {}).items():
            if key not in seen and _addressable(key) and len(seen) < MAX_DATA_PATHS:
                seen[key] = value
    return [
        {
            "path": jwtformat.DATA_PREFIX + key,
            "type": _json_type(value),
            "example": value if jwtformat.serialised_size(value) <= MAX_EXAMPLE_BYTES else None,
        }
        for key, value in sorted(seen.items())
    ]


def possible_claims(tenant: tenant_store.TenantItem) -> list[dict[str, Any]]:
    """§12.6: every claim path a format may use, with its type and an example; the
    `data.<key>` entries come from recently updated users of the tenant and mode."""
    real = {"mode": tenant.mode, "tenantId": tenant.tenantId, "tenant.name": tenant.name}
    fixed = [
        {"path": path, "type": kind, "example": real.get(path, example)}
        for path, (kind, example) in jwtformat.CLAIM_PATHS.items()
    ]
    return fixed + _data_paths(tenant.mode, tenant.tenantId)


# -------------------------------------------------------------------- minted tokens


def _check_payload(payload: dict[str, Any]) -> None:
    if jwtformat.serialised_size(payload) > MAX_PAYLOAD_BYTES:
        raise BadRequest(f'"payload" must be at most {MAX_PAYLOAD_BYTES} bytes as JSON')
    for key in payload:
        if key in (*jwtformat.SERVER_SET, *jwtformat.REFUSED):
            raise BadRequest(f'"payload.{key}" is not allowed')


def _keep_reserved(payload: dict[str, Any], claims: dict[str, Any]) -> None:
    """A payload may repeat a reserved claim's true value, never change it; a machine
    token has no user, so it may not name one (`userId`, `sessionId`, ...) at all."""
    for name in jwtformat.RESERVED:
        if name in payload and (name not in claims or payload[name] != claims[name]):
            raise BadRequest(f"Reserved claim: {name}")


def _seconds(duration: Any, settings: tenant_settings.TenantSettings) -> int:
    if duration is None:
        return settings.accessTokenDuration
    return parse_duration(duration, minimum=MIN_SECONDS, maximum=MAX_SECONDS)


def _user(
    tenant: tenant_store.TenantItem, user_id: int | None, user_uuid: str | None
) -> user_store.UserItem:
    user = lookups.lookup(tenant.mode, tenant.tenantId, user_id=user_id, user_uuid=user_uuid)
    if user is None or (user_uuid is not None and user.userUuid != user_uuid.lower()):
        raise NotFound(lookups.USER_NOT_FOUND)
    if user.locked:
        raise BadRequest("User is locked")
    return user


def _open_session(
    user: user_store.UserItem,
    tenant: tenant_store.TenantItem,
    settings: tenant_settings.TenantSettings,
    *,
    iat: int,
    seconds: int,
    ip: str,
    user_agent: str | None,
) -> session_store.SessionItem:
    """A session of kind `custom` that ends when the token expires (no refresh token)."""
    session, _ = lifecycle.new_session(
        user,
        {},
        ip=ip,
        user_agent=user_agent,
        refresh_seconds=seconds,
        now=iat,
        with_refresh=False,
    )
    session.kind = "custom"
    saves: list[Any] = [session]
    announced = webhookevents.created_item(session, settings, tenant.ancestors)
    if announced is not None:  # opt-in `session.create`, as at a sign-in
        saves.append(announced)
    transactions.commit(saves, [], save_conditions={0: session_store.new_session_condition()})
    return session


def mint(
    tenant: tenant_store.TenantItem,
    payload: dict[str, Any],
    *,
    user_id: int | None,
    user_uuid: str | None,
    duration: Any,
    ip: str,
    user_agent: str | None,
) -> dict[str, Any]:
    """§12.3: an access token signed with the tenant+mode's current key.

    With `userId`/`userUuid`: the user's access-token claims (tenant format applied),
    then `payload` over them, in a new `custom` session. Without: `mode`, `tenantId`,
    `iss` and `payload` (machine-to-machine, concepts §8.3). The tenant is the path's,
    already checked to lie in the caller's scope."""
    mode, tenant_id = tenant.mode, tenant.tenantId
    _check_payload(payload)
    settings = tenant_settings.read(mode, tenant_id)
    seconds = _seconds(duration, settings)
    iat = int(time.time())
    exp = iat + seconds
    if user_id is None and user_uuid is None:
        claims: dict[str, Any] = {
            "mode": mode,
            "tenantId": tenant_id,
            "iss": config.issuer(),
            "iat": iat,
            "exp": exp,
        }
        _keep_reserved(payload, claims)
    else:
        user = _user(tenant, user_id, user_uuid)
        template = settings.jwtFormat.format if settings.jwtFormat else None
        # Check the payload against claims of a placeholder session first: a refused
        # payload must not leave a session behind.
        _keep_reserved(
            {k: v for k, v in payload.items() if k != "sessionId"},
            token_claims.access_claims(user, _SAMPLE_UUID, {}, iat, exp),
        )
        if "sessionId" in payload:
            raise BadRequest("Reserved claim: sessionId")
        session = _open_session(
            user, tenant, settings, iat=iat, seconds=seconds, ip=ip, user_agent=user_agent
        )
        claims = token_claims.formatted_access_claims(
            user, session.sessionId, {}, iat, exp, template, tenant_name=lambda: tenant.name
        )
    claims = {**claims, **payload}
    return {
        "accessToken": signing.sign(tenant_id, mode, claims),
        "expiresAt": iso(datetime.fromtimestamp(exp, UTC)),
        "payload": claims,
    }
