"""A tenant's SSO providers per mode (concepts §9.2; docs/sso.md "Configuration"):
what an admin may save, how it is stored, what reads show.

`PUT` merges: a field sent replaces the stored one, a field left out keeps it, `null`
resets it. `clientSecret` and Apple's `privateKey` are sealed with KMS, bound to the
tenant, mode and provider, and read back as `"********"` (sending the mask back keeps
the stored value). Endpoint URLs follow the webhook rules (`webhooks/targets.py`):
https and public addresses in live mode.

`endpoints` is the test-only override (docs/sso.md "Testing"): it points a named
provider (google, github, ...) at another server, such as the local OIDC provider. It
is refused unless the deployment sets `SSO_ENDPOINT_OVERRIDE=true` (only the local
runtime does) and the caller's mode is test, so production configuration cannot reach it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from portcullis.platform.errors import BadRequest, NotFound
from portcullis.platform.models import STRICT as _STRICT
from portcullis.platform.timefmt import now_iso
from portcullis.platform.validation import bad_request_from
from portcullis.sso import providers
from portcullis.store import sso as store
from portcullis.webhooks import secrets as sealing
from portcullis.webhooks import targets

MASK = "********"
PROVIDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DIRECTORY_ID = re.compile(
    r"^(common|organizations|consumers|[0-9a-fA-F-]{36}|[A-Za-z0-9.-]{1,253})$"
)
DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?$")
APPLE_ID = re.compile(r"^[A-Z0-9]{10}$")
SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,128}$")  # RFC 6749 scope-token
CLAIM = re.compile(r"^[A-Za-z0-9_:.\-/]{1,128}$")
URL_FIELDS = ("issuer", "authorizationUrl", "tokenUrl", "userInfoUrl", "jwksUrl")
OVERRIDE_FLAG = "SSO_ENDPOINT_OVERRIDE"

Url = Annotated[str, Field(min_length=1, max_length=2048)]
Secret = Annotated[str, Field(min_length=1, max_length=8192)]


class ClaimMapping(BaseModel):
    model_config = _STRICT
    subject: str | None = None
    email: str | None = None
    emailVerified: str | None = None
    name: str | None = None
    image: str | None = None


class Endpoints(BaseModel):
    """The test-only override of a provider's endpoints."""

    model_config = _STRICT
    issuer: Url | None = None
    authorizationUrl: Url | None = None
    tokenUrl: Url | None = None
    userInfoUrl: Url | None = None
    jwksUrl: Url | None = None
    emailsUrl: Url | None = None


class ProviderInput(BaseModel):
    """The body of `PUT .../sso/{provider}`: every field optional (merge)."""

    model_config = _STRICT
    enabled: bool | None = None
    name: Annotated[str, Field(max_length=100)] | None = None
    clientId: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    clientSecret: Secret | None = None
    issuer: Url | None = None
    authorizationUrl: Url | None = None
    tokenUrl: Url | None = None
    userInfoUrl: Url | None = None
    jwksUrl: Url | None = None
    scopes: Annotated[list[str], Field(max_length=20)] | None = None
    claimMapping: ClaimMapping | None = None
    keyId: str | None = None
    teamId: str | None = None
    privateKey: Secret | None = None
    directoryId: str | None = None
    domain: Annotated[str, Field(max_length=255)] | None = None
    endpoints: Endpoints | None = None
    # Read-only: accepted and ignored, so that a read can be edited and sent back.
    provider: str | None = None
    providerId: str | None = None
    ready: bool | None = None
    updatedAt: str | None = None


PLAIN = (
    "enabled",
    "name",
    "clientId",
    "issuer",
    "authorizationUrl",
    "tokenUrl",
    "userInfoUrl",
    "jwksUrl",
    "scopes",
    "claimMapping",
    "keyId",
    "teamId",
    "directoryId",
    "domain",
    "endpoints",
)
SECRETS = ("clientSecret", "privateKey")


@dataclass
class Provider:
    """One configured provider: `settings` in clear, secrets opened when needed."""

    mode: str
    tenant_id: str
    name: str  # the path name: google, ..., custom
    provider_id: str | None
    settings: dict[str, Any]
    sealed: str | None = None
    updated_at: str | None = None
    _secrets: dict[str, str] | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return storage_key(self.name, self.provider_id)

    def open_secrets(self) -> dict[str, str]:
        if self._secrets is None:
            self._secrets = {}
            if self.sealed:
                raw = sealing.open_text(self.sealed, _context(self.mode, self.tenant_id, self.key))
                self._secrets = dict(json.loads(raw))
        return self._secrets

    @property
    def ready(self) -> bool:
        """Switched on and holding what a sign-on needs (api-client §5)."""
        return bool(self.settings.get("enabled")) and bool(self.settings.get("ready"))


def storage_key(name: str, provider_id: str | None) -> str:
    return f"custom#{provider_id}" if name == providers.CUSTOM else name


def _context(mode: str, tenant_id: str, key: str) -> str:
    return f"sso:{mode}:{tenant_id}:{key}"


def check_name(name: str, provider_id: str | None = None) -> None:
    """404 for a provider name the service does not know; 400 for a bad custom id."""
    if name not in providers.ALL:
        raise NotFound("Provider not found")
    if name == providers.CUSTOM:
        if provider_id is None:
            raise BadRequest("provider_id is required")
        if not PROVIDER_ID.match(provider_id):
            raise BadRequest('"providerId" must be 1-64 letters, digits, "-" or "_"')


def load(mode: str, tenant_id: str, name: str, provider_id: str | None = None) -> Provider | None:
    item = store.get_provider(mode, tenant_id, storage_key(name, provider_id))
    if item is None:
        return None
    return _from_item(item)


def _from_item(item: store.SsoProviderItem) -> Provider:
    key = item.provider
    name, _, provider_id = key.partition("#")
    return Provider(
        item.mode,
        item.tenantId,
        name,
        provider_id or None,
        dict(item.settings or {}),
        item.sealed,
        item.updatedAt,
    )


# ------------------------------------------------------------------ checks


def _override_allowed(mode: str) -> bool:
    return mode == "test" and os.environ.get(OVERRIDE_FLAG, "").strip().lower() == "true"


def _url(value: str, mode: str, name: str) -> str:
    """The webhook rules without DNS at save (a provider may be configured before its
    name resolves from here); the sign-on refuses what its host resolves to then."""
    targets.check_url(value, mode, field=name)
    # Kept as written: an issuer is compared with the ID token's `iss` character for
    # character, and the normalised form may add a trailing slash.
    return value


def _check(name: str, settings: dict[str, Any], secrets: dict[str, str], mode: str) -> None:
    for url_field in URL_FIELDS:
        if settings.get(url_field):
            if name not in (providers.CUSTOM,) and url_field != "issuer":
                raise BadRequest(f'"{url_field}" is only for custom providers')
            settings[url_field] = _url(settings[url_field], mode, url_field)
    if name != providers.CUSTOM and settings.get("issuer"):
        raise BadRequest('"issuer" is only for custom providers')
    if name != providers.CUSTOM and settings.get("name"):
        raise BadRequest('"name" is only for custom providers')
    endpoints = settings.get("endpoints")
    if endpoints:
        if not _override_allowed(mode):
            raise BadRequest('"endpoints" is a test-only override this deployment does not allow')
        for key, value in list(endpoints.items()):
            endpoints[key] = _url(value, mode, f"endpoints.{key}")
    for scope in settings.get("scopes") or []:
        if not SCOPE.match(scope):
            raise BadRequest('"scopes" must be scope names without spaces')
    for key, claim in (settings.get("claimMapping") or {}).items():
        if claim is not None and not CLAIM.match(claim):
            raise BadRequest(f'"claimMapping.{key}" must be a claim name')
    extras = {"keyId", "teamId", "privateKey"} if name == "apple" else set()
    extras |= {"directoryId"} if name == "azure" else set()
    extras |= {"domain"} if name == "okta" else set()
    for extra in ("keyId", "teamId", "directoryId", "domain"):
        if settings.get(extra) and extra not in extras:
            raise BadRequest(f'"{extra}" is not a setting of {name}')
    if secrets.get("privateKey") and "privateKey" not in extras:
        raise BadRequest(f'"privateKey" is not a setting of {name}')
    if name == "apple":
        for extra in ("keyId", "teamId"):
            if settings.get(extra) and not APPLE_ID.match(settings[extra]):
                raise BadRequest(f'"{extra}" must be 10 uppercase letters or digits')
    if settings.get("directoryId") and not DIRECTORY_ID.match(settings["directoryId"]):
        raise BadRequest('"directoryId" must be a directory id, a domain or "common"')
    if settings.get("domain") and not DOMAIN.match(settings["domain"]):
        raise BadRequest('"domain" must be a host name such as "example.okta.com"')
    settings["ready"] = _complete(name, settings, secrets)
    if settings.get("enabled") and not settings["ready"]:
        raise BadRequest(f'"enabled" needs {_missing(name, settings, secrets)}')


def _needs(name: str, settings: dict[str, Any], secrets: dict[str, str]) -> list[str]:
    wanted = ["clientId"]
    if name == "apple":
        wanted += ["keyId", "teamId", "privateKey"]
    else:
        wanted += ["clientSecret"]
    if name == "okta" and not (settings.get("endpoints") or {}).get("issuer"):
        wanted.append("domain")
    have = {**settings, **secrets}
    missing = [k for k in wanted if not have.get(k)]
    if name == providers.CUSTOM and not settings.get("issuer"):
        missing += [k for k in ("authorizationUrl", "tokenUrl") if not settings.get(k)]
        if not settings.get("userInfoUrl") and not settings.get("jwksUrl"):
            missing.append("userInfoUrl")
    return missing


def _complete(name: str, settings: dict[str, Any], secrets: dict[str, str]) -> bool:
    return not _needs(name, settings, secrets)


def _missing(name: str, settings: dict[str, Any], secrets: dict[str, str]) -> str:
    return ", ".join(f'"{k}"' for k in _needs(name, settings, secrets))


# ------------------------------------------------------------------ the admin API


def _parse(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest('"body" must be an object')
    if not body:
        raise BadRequest("At least one field is required")
    try:
        parsed = ProviderInput.model_validate(body)
    except ValidationError as exc:
        raise bad_request_from(exc) from exc
    return parsed.model_dump(exclude_unset=True)


def save(
    mode: str, tenant_id: str, name: str, provider_id: str | None, body: Any
) -> dict[str, Any]:
    """Merge `body` into the provider's stored settings; answers what `describe` does."""
    check_name(name, provider_id)
    sent = _parse(body)
    stored = load(mode, tenant_id, name, provider_id)
    settings: dict[str, Any] = dict(stored.settings) if stored else {"enabled": False}
    secrets = dict(stored.open_secrets()) if stored else {}
    for key in PLAIN:
        if key in sent:
            value = sent[key]
            if isinstance(value, dict):
                value = {k: v for k, v in value.items() if v is not None} or None
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
    for key in SECRETS:
        if key in sent and not (isinstance(sent[key], str) and sent[key] == MASK):
            if sent[key] is None:
                secrets.pop(key, None)
            else:
                secrets[key] = sent[key]
    _check(name, settings, secrets, mode)
    key = storage_key(name, provider_id)
    settings["secretNames"] = sorted(secrets)
    sealed = (
        sealing.seal_text(json.dumps(secrets), _context(mode, tenant_id, key)) if secrets else None
    )
    item = store.put_provider(
        mode, tenant_id, key, settings=settings, sealed=sealed, updated_at=now_iso()
    )
    return describe(_from_item(item))


def describe(provider: Provider) -> dict[str, Any]:
    """What reads answer: the settings, secrets masked."""
    settings = provider.settings
    body: dict[str, Any] = {"provider": provider.name}
    if provider.provider_id:
        body["providerId"] = provider.provider_id
    body["enabled"] = bool(settings.get("enabled"))
    for key in PLAIN[1:]:
        if key in settings:
            body[key] = settings[key]
    names = set(settings.get("secretNames") or [])
    for key in SECRETS:
        if key in names:
            body[key] = MASK
    body["ready"] = bool(settings.get("ready"))
    body["updatedAt"] = provider.updated_at
    return body


def read(mode: str, tenant_id: str, name: str, provider_id: str | None) -> dict[str, Any]:
    check_name(name, provider_id)
    provider = load(mode, tenant_id, name, provider_id)
    if provider is None:
        raise NotFound("Provider not configured")
    return describe(provider)


def remove(mode: str, tenant_id: str, name: str, provider_id: str | None) -> dict[str, Any]:
    check_name(name, provider_id)
    if not store.delete_provider(mode, tenant_id, storage_key(name, provider_id)):
        raise NotFound("Provider not configured")
    return {"message": "OK"}


def list_all(mode: str, tenant_id: str) -> dict[str, Any]:
    found = [describe(_from_item(item)) for item in store.list_providers(mode, tenant_id)]
    return {"results": found}
