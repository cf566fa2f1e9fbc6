"""Passthrough migration settings of a tenant and mode (concepts §7.2, §7.3; docs/auth.md
"Passthrough migration"): what an admin may save, how it is stored, what reads show.

`PUT` merges like the tenant settings do: a field sent replaces the stored one, a field
left out keeps it, `null` resets it. Secrets (header values, `passthroughCode`, the
Cognito `clientSecret`) are sealed with KMS, bound to the tenant and mode; reads show
them as `"********"` (and sending that mask back keeps the stored value, so a read can
be edited and saved). The expected `passbackCode` is stored as its SHA-256 digest only.
The upstream URL follows the webhook rules (`webhooks/targets.py`): https and public
addresses after DNS in live mode, checked here and again at every call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from portcullis.platform import config
from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import BadRequest
from portcullis.platform.models import STRICT as _STRICT
from portcullis.platform.timefmt import now_iso
from portcullis.platform.validation import bad_request_from
from portcullis.platform.weburls import InvalidUrl
from portcullis.platform.weburls import parse as parse_web_url
from portcullis.store import passthrough as store
from portcullis.webhooks import secrets as sealing
from portcullis.webhooks import targets

MASK = "********"
PLACEHOLDERS = ("email", "username", "emailOrUsername", "password", "passthroughCode")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z]+)\s*\}\}")
DEFAULT_TEMPLATE: dict[str, Any] = {
    "email": "{{email}}",
    "password": "{{password}}",
    "passthroughCode": "{{passthroughCode}}",
}
MAX_TEMPLATE_BYTES = 4096
MAX_HEADERS = 20
# Set by the service itself, or meaningless/dangerous to fix per tenant.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
        "expect",
    }
)
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
POOL_ID = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}_[0-9A-Za-z]{1,55}$")
CLIENT_ID = re.compile(r"^[\w+]{1,128}$")
MESSAGE_PATH = re.compile(r"^[A-Za-z0-9_\-]{1,64}(?:\.[A-Za-z0-9_\-]{1,64}){0,7}$")

Secret = Annotated[str, Field(min_length=1, max_length=1024)]


class CognitoInput(BaseModel):
    model_config = _STRICT
    region: Annotated[str, Field(max_length=32)] | None = None
    userPoolId: Annotated[str, Field(max_length=100)] | None = None
    clientId: Annotated[str, Field(max_length=128)] | None = None
    clientSecret: Secret | None = None
    endpoint: Annotated[str, Field(max_length=2048)] | None = None


class PassthroughInput(BaseModel):
    """The body of `PUT .../passthrough`: every field optional (merge)."""

    model_config = _STRICT
    enabled: bool | None = None
    url: Annotated[str, Field(max_length=2048)] | None = None
    method: Literal["POST", "PUT"] | None = None
    headers: dict[str, Annotated[str, Field(max_length=1024)]] | None = None
    bodyFormat: Literal["json", "form"] | None = None
    bodyTemplate: dict[str, Any] | None = None
    passthroughCode: Secret | None = None
    passbackCode: Secret | None = None
    successStatus: (
        Annotated[list[Annotated[int, Field(ge=200, le=299)]], Field(min_length=1, max_length=20)]
        | None
    ) = None
    messagePath: str | None = None
    returnUpstreamResponse: bool | None = None
    timeoutMs: Annotated[int, Field(ge=100, le=10_000)] | None = None
    createOnPassthrough: bool | None = None
    preset: Literal["cognito"] | None = None
    cognito: CognitoInput | None = None
    # Read-only: accepted and ignored, so that a read can be edited and sent back.
    updatedAt: Annotated[str, Field(max_length=64)] | None = None


DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "url": None,
    "method": "POST",
    "headerNames": [],
    "bodyFormat": "json",
    "bodyTemplate": DEFAULT_TEMPLATE,
    "successStatus": None,  # any 2xx
    "messagePath": "message",
    "returnUpstreamResponse": True,
    "timeoutMs": 5000,
    "createOnPassthrough": False,
    "preset": None,
    "cognito": None,
}


@dataclass
class Stored:
    """A tenant's passthrough settings as stored: `settings` in clear, `secrets` opened
    only when needed (`open_secrets`), `passback_digest` for the comparison."""

    mode: str
    tenant_id: str
    settings: dict[str, Any]
    sealed: str | None = None
    passback_digest: str | None = None
    updated_at: str | None = None
    _secrets: dict[str, Any] | None = field(default=None, repr=False)

    def open_secrets(self) -> dict[str, Any]:
        """Header values, `passthroughCode`, `clientSecret` (one KMS Decrypt, once)."""
        if self._secrets is None:
            self._secrets = {}
            if self.sealed:
                raw = sealing.open_text(self.sealed, _context(self.mode, self.tenant_id))
                self._secrets = dict(json.loads(raw))
        return self._secrets

    @property
    def enabled(self) -> bool:
        return bool(self.settings.get("enabled"))

    @property
    def is_cognito(self) -> bool:
        return self.settings.get("preset") == "cognito"


def _context(mode: str, tenant_id: str) -> str:
    return f"passthrough:{mode}:{tenant_id}"


def load(mode: str, tenant_id: str) -> Stored | None:
    """The stored settings, or None when the tenant never configured passthrough."""
    item = store.get(mode, tenant_id)
    if item is None:
        return None
    return Stored(
        mode,
        tenant_id,
        {**DEFAULTS, **dict(item.settings or {})},
        item.sealed,
        item.passbackDigest,
        item.updatedAt,
    )


# ------------------------------------------------------------------ checks of one field


def _template(value: dict[str, Any], body_format: str) -> dict[str, Any]:
    if len(json.dumps(value)) > MAX_TEMPLATE_BYTES:
        raise BadRequest(f'"bodyTemplate" must be at most {MAX_TEMPLATE_BYTES} bytes of JSON')
    found: set[str] = set()

    def walk(node: Any, depth: int) -> None:
        if depth > 5:
            raise BadRequest('"bodyTemplate" must be nested at most 5 levels deep')
        if isinstance(node, dict):
            for child in node.values():
                walk(child, depth + 1)
        elif isinstance(node, list):
            for child in node:
                walk(child, depth + 1)
        elif isinstance(node, str):
            found.update(PLACEHOLDER.findall(node))

    walk(value, 0)
    unknown = sorted(found - set(PLACEHOLDERS))
    if unknown:
        raise BadRequest(f'"bodyTemplate" uses an unknown placeholder {{{{{unknown[0]}}}}}')
    if "password" not in found:
        raise BadRequest('"bodyTemplate" must contain {{password}}')
    if body_format == "form" and not all(isinstance(v, str) for v in value.values()):
        raise BadRequest('"bodyTemplate" must map names to strings when "bodyFormat" is form')
    return value


def _headers(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_HEADERS:
        raise BadRequest(f'"headers" must have at most {MAX_HEADERS} entries')
    seen: set[str] = set()
    for name, text in value.items():
        if not HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
            raise BadRequest(f'"headers.{name[:64]}" is not a header name that may be set')
        if name.lower() in seen:
            raise BadRequest(f'"headers.{name}" is given twice')
        seen.add(name.lower())
        if not text.isprintable() or not text.isascii():
            raise BadRequest(f'"headers.{name}" must be printable ASCII')
    return value


def _endpoint(value: str, mode: str) -> str:
    """A Cognito endpoint other than AWS's own: only for local development (test mode,
    a deployment that lets test mode reach loopback, a loopback address). Everywhere
    else the preset talks to the region's real endpoint, which needs no setting."""
    field_name = "cognito.endpoint"
    if mode != "test" or not config.webhooks_allow_localhost():
        raise BadRequest(f'"{field_name}" is only accepted for local development')
    try:
        parsed = parse_web_url(value)
    except InvalidUrl as error:
        raise BadRequest(f'"{field_name}" {error}') from None
    literal = parsed.literal
    if not (parsed.host == "localhost" or (literal is not None and literal.is_loopback)):
        raise BadRequest(f'"{field_name}" must be a loopback address')
    return parsed.origin.origin


def _cognito(value: dict[str, Any], mode: str) -> dict[str, Any]:
    region = value.get("region")
    if not isinstance(region, str) or not REGION.match(region):
        raise BadRequest('"cognito.region" must be an AWS region such as "us-east-1"')
    pool = value.get("userPoolId")
    if not isinstance(pool, str) or not POOL_ID.match(pool):
        raise BadRequest('"cognito.userPoolId" must be a user pool id such as "us-east-1_Ab12"')
    if pool.split("_", 1)[0] != region:
        raise BadRequest('"cognito.userPoolId" must be a pool of "cognito.region"')
    client_id = value.get("clientId")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise BadRequest('"cognito.clientId" must be an app client id')
    endpoint = value.get("endpoint")
    checked = {"region": region, "userPoolId": pool, "clientId": client_id}
    if endpoint is not None:
        checked["endpoint"] = _endpoint(endpoint, mode)
    return checked


# ------------------------------------------------------------------ the admin API


def _parse(body: Any) -> PassthroughInput:
    if not isinstance(body, dict):
        raise BadRequest('"body" must be an object')
    if not body:
        raise BadRequest("At least one field is required")
    try:
        return PassthroughInput.model_validate(body)
    except ValidationError as exc:
        raise bad_request_from(exc) from exc


def _keep(value: Any) -> bool:
    return isinstance(value, str) and value == MASK


def save(mode: str, tenant_id: str, body: Any) -> dict[str, Any]:
    """Merge `body` into the stored settings; answers what `describe` answers."""
    change = _parse(body)
    sent = change.model_dump(exclude_unset=True)
    stored = load(mode, tenant_id)
    settings = dict(stored.settings if stored else DEFAULTS)
    secrets = dict(stored.open_secrets()) if stored and stored.sealed else {}
    passback = stored.passback_digest if stored else None

    plain: tuple[str, ...] = ("enabled", "method", "bodyFormat", "successStatus")
    plain += ("messagePath", "timeoutMs", "returnUpstreamResponse", "createOnPassthrough")
    plain += ("preset",)
    for name in plain:
        if name in sent:
            settings[name] = sent[name] if sent[name] is not None else DEFAULTS[name]
    if "bodyTemplate" in sent:
        settings["bodyTemplate"] = sent["bodyTemplate"] or DEFAULT_TEMPLATE
    if "url" in sent:
        settings["url"] = sent["url"]
    if "headers" in sent:
        headers = sent["headers"] or {}
        kept = secrets.get("headers") or {}
        values = {k: (kept.get(k, "") if _keep(v) else v) for k, v in headers.items()}
        missing = [k for k, v in values.items() if not v]
        if missing:
            raise BadRequest(f'"headers.{missing[0]}" must have a value')
        secrets["headers"] = _headers(values)
        settings["headerNames"] = list(values)
    if "passthroughCode" in sent and not _keep(sent["passthroughCode"]):
        secrets["passthroughCode"] = sent["passthroughCode"]
    if "passbackCode" in sent and not _keep(sent["passbackCode"]):
        code = sent["passbackCode"]
        passback = secret_digest(code) if code is not None else None
    if "cognito" in sent:
        given = sent["cognito"]
        if given is None:
            settings["cognito"] = None
            secrets.pop("clientSecret", None)
        else:
            merged = {**(settings.get("cognito") or {}), **given}
            secret = merged.pop("clientSecret", None)
            if secret is not None and not _keep(secret):
                secrets["clientSecret"] = secret
            elif "clientSecret" in given and given["clientSecret"] is None:
                secrets.pop("clientSecret", None)
            settings["cognito"] = {k: v for k, v in merged.items() if v is not None}

    _check(settings, mode)
    sealed = None
    secrets = {k: v for k, v in secrets.items() if v}
    settings["secretNames"] = sorted(secrets)
    if secrets:
        sealed = sealing.seal_text(json.dumps(secrets), _context(mode, tenant_id))
    store.put(
        mode,
        tenant_id,
        settings=settings,
        sealed=sealed,
        passback_digest=passback,
        updated_at=now_iso(),
    )
    saved = load(mode, tenant_id)
    assert saved is not None
    return describe_stored(saved)


def _check(settings: dict[str, Any], mode: str) -> None:
    """The whole configuration makes sense (after the merge); the URL is checked with
    DNS (fail closed) whenever one is set, enabled or not."""
    settings["bodyTemplate"] = _template(settings["bodyTemplate"], settings["bodyFormat"])
    if settings["messagePath"] and not MESSAGE_PATH.match(settings["messagePath"]):
        raise BadRequest('"messagePath" must be a dotted path of names, such as "error.message"')
    if settings["preset"] == "cognito":
        if settings.get("url"):
            raise BadRequest('"url" is not used with the cognito preset (set it to null)')
        if not settings.get("cognito"):
            raise BadRequest('"cognito" is required with the cognito preset')
        settings["cognito"] = _cognito(settings["cognito"], mode)
        return
    if settings.get("cognito"):
        raise BadRequest('"cognito" needs "preset": "cognito"')
    if settings.get("url"):
        settings["url"] = targets.check_reachable(settings["url"], mode, field="url")
    elif settings["enabled"]:
        raise BadRequest('"url" is required')


def describe_stored(stored: Stored | None) -> dict[str, Any]:
    """What reads answer: the settings, secrets masked (`"********"` when set)."""
    settings = dict(stored.settings if stored else DEFAULTS)
    secrets_set = _secret_names(stored)
    cognito = settings.get("cognito")
    if cognito is not None:
        cognito = {**cognito, "clientSecret": MASK if "clientSecret" in secrets_set else None}
    return {
        "enabled": settings["enabled"],
        "url": settings.get("url"),
        "method": settings["method"],
        "headers": {name: MASK for name in settings.get("headerNames") or []},
        "bodyFormat": settings["bodyFormat"],
        "bodyTemplate": settings["bodyTemplate"],
        "passthroughCode": MASK if "passthroughCode" in secrets_set else None,
        "passbackCode": MASK if stored and stored.passback_digest else None,
        "successStatus": settings["successStatus"],
        "messagePath": settings["messagePath"],
        "returnUpstreamResponse": settings["returnUpstreamResponse"],
        "timeoutMs": settings["timeoutMs"],
        "createOnPassthrough": settings["createOnPassthrough"],
        "preset": settings["preset"],
        "cognito": cognito,
        "updatedAt": stored.updated_at if stored else None,
    }


def _secret_names(stored: Stored | None) -> set[str]:
    """Which secrets are set, without opening them: recorded in clear beside them."""
    if stored is None:
        return set()
    return set(stored.settings.get("secretNames") or [])


def describe(mode: str, tenant_id: str) -> dict[str, Any]:
    return describe_stored(load(mode, tenant_id))


def remove(mode: str, tenant_id: str) -> dict[str, Any]:
    """Disconnect for good (idempotent): the settings and their secrets are deleted."""
    store.delete(mode, tenant_id)
    return describe_stored(None)
