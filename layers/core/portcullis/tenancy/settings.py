"""Tenant settings (a Portcullis extension; see docs/settings.md): defaults plus overrides.

Only changed values are stored, so a new default reaches every tenant that never set it.

No `from __future__ import annotations` here: with real annotations pydantic has no
strings to evaluate when each model class is built, every cold start.
"""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationError, field_validator

from portcullis.platform.errors import BadRequest
from portcullis.platform.models import STRICT as _STRICT
from portcullis.platform.origins import site_path_problem
from portcullis.platform.timefmt import now_iso
from portcullis.platform.validation import bad_request_from
from portcullis.platform.weburls import InvalidUrl
from portcullis.platform.weburls import parse as parse_web_url
from portcullis.store import tenants as store
from portcullis.tenancy.domains import domain_problem, normalise_host

Channel = Literal["email", "sms", "authenticator"]
Strategy = Literal[
    "password",
    "link",
    "verificationCode",
    "totp",
    "apple",
    "azure",
    "google",
    "github",
    "twitter",
    "facebook",
    "linkedin",
    "okta",
    "saml",
]

# Deliberately simple (one @, a dot in the domain, no spaces): full RFC 5322 syntax is
# both unneeded and a source of surprising addresses; SES rejects what it cannot send.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = re.compile(
    r"^[^@\s\x00-\x1f\x7f<>()\[\],;:\\\"]+@" + _LABEL + r"(?:\." + _LABEL + r")+$"
)


class Factor(BaseModel):
    model_config = _STRICT
    channel: Channel
    strategy: Strategy


class LiveDomain(BaseModel):
    model_config = _STRICT
    domain: str
    includeSubdomains: bool = True

    @field_validator("domain")
    @classmethod
    def _valid_domain(cls, value: str) -> str:
        problem = domain_problem(value)
        if problem:
            raise ValueError(problem)
        return normalise_host(value)


class RateLimit(BaseModel):
    model_config = _STRICT
    limit: Annotated[int, Field(ge=1, le=1_000_000)]
    windowSeconds: Annotated[int, Field(ge=1, le=86_400)]


class RateLimits(BaseModel):
    """Every limit the service enforces, by name (defaults: api-client §4, api-server §6)."""

    model_config = _STRICT
    signupPerIp: RateLimit = RateLimit(limit=20, windowSeconds=3600)
    sendPerIp: RateLimit = RateLimit(limit=30, windowSeconds=900)
    sendPerTarget: RateLimit = RateLimit(limit=5, windowSeconds=900)
    sendIntervalPerTarget: RateLimit = RateLimit(limit=1, windowSeconds=30)
    attemptsPerAccount: RateLimit = RateLimit(limit=10, windowSeconds=900)
    requestsPerIp: RateLimit = RateLimit(limit=300, windowSeconds=60)
    authFailuresPerIp: RateLimit = RateLimit(limit=20, windowSeconds=300)
    # Failed password / code log-ins per IP (password spraying: ratelimit/spraying.py).
    firstFactorFailuresPerIp: RateLimit = RateLimit(limit=50, windowSeconds=900)
    refreshPerSession: RateLimit = RateLimit(limit=60, windowSeconds=60)
    verifyKeyPerCredential: RateLimit = RateLimit(limit=30, windowSeconds=60)
    # api-server §6 token buckets (100/s burst 200; 20/s burst 40) as fixed 2 s windows.
    requestsPerCredential: RateLimit = RateLimit(limit=200, windowSeconds=2)
    searchesPerCredential: RateLimit = RateLimit(limit=40, windowSeconds=2)


class Authentication(BaseModel):
    model_config = _STRICT
    firstFactors: list[Factor] = [
        Factor(channel="email", strategy="password"),
        Factor(channel="email", strategy="link"),
        Factor(channel="email", strategy="verificationCode"),
    ]
    secondFactors: list[Factor] = []


class Mfa(BaseModel):
    model_config = _STRICT
    policy: Literal["optional", "all"] = "optional"
    # How long a sign-in waits for its second factor (api-client §11.6).
    firstFactorTokenSeconds: Annotated[int, Field(ge=10, le=3600)] = 600


def _path(value: str | None) -> str | None:
    if value is None:
        return None
    problem = site_path_problem(value)  # also `\`, whitespace, control characters
    if problem:
        raise ValueError(problem)
    return value


def _webhook_url(value: str) -> str:
    try:
        return parse_web_url(value).url
    except InvalidUrl as error:
        raise ValueError(str(error)) from None


WebhookUrl = Annotated[str, Field(max_length=2048), AfterValidator(_webhook_url)]


class JwtFormat(BaseModel):
    """The custom JWT format of this tenant and mode (api-server §12.4, docs/tokens.md):
    kept with the settings so that log-in and refresh, which read them anyway, need no
    extra call. Checked and written by `users.customjwt` only (see `update`)."""

    model_config = _STRICT
    format: dict[str, Any]
    updatedAt: str


class TenantSettings(BaseModel):
    model_config = _STRICT
    liveDomains: list[LiveDomain] = []
    loginRedirectPath: str = "/dashboard"
    afterSignupPath: str | None = None
    logoutRedirectPath: str = "/login"
    resetPasswordPath: str = "/reset"
    accessTokenDuration: Annotated[int, Field(ge=60, le=2_592_000)] = 604_800
    refreshTokenDuration: Annotated[int, Field(ge=300, le=7_776_000)] = 2_592_000
    authentication: Authentication = Field(default_factory=Authentication)
    mfa: Mfa = Field(default_factory=Mfa)
    rateLimits: RateLimits = Field(default_factory=RateLimits)
    # From address of this tenant's emails (must be verified in SES); None = the
    # deployment's SENDER_EMAIL. See docs/emails.md.
    senderEmail: Annotated[str, Field(max_length=254)] | None = None
    # Webhook targets (concepts §5.1, §5.5; docs/webhooks.md): None = not sent. The shape
    # is checked here for any mode; the mode's rules and DNS are checked when a change is
    # saved (`webhooks.targets.check_reachable`, called by the tenants service).
    userCreatedWebhookUrl: WebhookUrl | None = None
    userUpdatedWebhookUrl: WebhookUrl | None = None
    userDeletedWebhookUrl: WebhookUrl | None = None
    tenantCreatedWebhookUrl: WebhookUrl | None = None
    tenantUpdatedWebhookUrl: WebhookUrl | None = None
    tenantDeletedWebhookUrl: WebhookUrl | None = None
    linkEmailWebhookUrl: WebhookUrl | None = None
    verificationCodeEmailWebhookUrl: WebhookUrl | None = None
    verificationCodeSmsWebhookUrl: WebhookUrl | None = None
    # Opt-in extension events `session.create` / `session.end` (concepts §5.1).
    sessionCreatedWebhookUrl: WebhookUrl | None = None
    sessionEndedWebhookUrl: WebhookUrl | None = None
    # Custom JWT format: read here, set through `.../auth/jwt/format` only.
    jwtFormat: JwtFormat | None = None

    @field_validator("senderEmail")
    @classmethod
    def _sender_address(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL_PATTERN.match(value):
            raise ValueError("must be a valid email")
        return value

    @field_validator(
        "loginRedirectPath", "afterSignupPath", "logoutRedirectPath", "resetPasswordPath"
    )
    @classmethod
    def _relative_paths(cls, value: str | None) -> str | None:
        return _path(value)


# Objects whose keys merge one level deep on update; everything else is replaced.
_MERGED = {"rateLimits", "mfa", "authentication"}
# Settings with an endpoint of their own (which checks them): a settings update may send
# them back unchanged (a read-modify-write round trip) but never change them.
_SET_ELSEWHERE = {"jwtFormat": "PUT /v0/tenants/{tenantId}/auth/jwt/format"}


def _merge(stored: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = dict(stored)
    for key, value in change.items():
        if key in _MERGED and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _validate(overrides: dict[str, Any]) -> TenantSettings:
    try:
        return TenantSettings.model_validate(overrides)
    except ValidationError as exc:
        raise bad_request_from(exc) from exc


def read(mode: str, tenant_id: str) -> TenantSettings:
    overrides = store.get_settings(mode, tenant_id)
    try:
        return TenantSettings.model_validate(overrides)
    except ValidationError:
        # Stored overrides written by an older version: fall back to defaults field by field.
        valid = {}
        for key, value in overrides.items():
            try:
                TenantSettings.model_validate({key: value})
            except ValidationError:
                continue
            valid[key] = value
        return TenantSettings.model_validate(valid)


def update(mode: str, tenant_id: str, change: Any) -> TenantSettings:
    if not isinstance(change, dict):
        raise BadRequest('"body" must be an object')
    if not change:
        raise BadRequest("At least one field is required")
    stored = store.get_settings(mode, tenant_id)
    for key, endpoint in _SET_ELSEWHERE.items():
        if key in change and change[key] != stored.get(key):
            raise BadRequest(f'"{key}" is set with {endpoint}')
    merged = _merge(stored, change)
    settings = _validate(merged)
    # Store the normalised form of what the tenant set (not the defaults).
    normalised = settings.model_dump(mode="json")
    overrides = {key: normalised[key] for key in merged}
    store.put_settings(mode, tenant_id, overrides, now_iso())
    return settings


def as_json(settings: TenantSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json")
