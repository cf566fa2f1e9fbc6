"""The named providers (concepts §9.2) and the endpoints a tenant's configuration of
one resolves to.

A preset fixes what the provider publishes (issuer or endpoints, scopes, the names of
its claims); the tenant adds its credentials and the extras (Azure directory, Okta
domain, Apple key). OIDC providers are configured by issuer and read through discovery
(`/.well-known/openid-configuration`, cached per process); their identity comes from a
verified ID token. Plain OAuth 2 providers (GitHub, Facebook) give it through their
user-info endpoint.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from portcullis.platform.errors import PortcullisError

NAMED = ("google", "github", "azure", "linkedin", "facebook", "apple", "okta")
CUSTOM = "custom"
ALL = (*NAMED, CUSTOM)

OIDC_CLAIMS: dict[str, str] = {
    "subject": "sub",
    "email": "email",
    "emailVerified": "email_verified",
    "name": "name",
    "image": "picture",
}
HTTP_TIMEOUT = 5.0
DISCOVERY_SECONDS = 3600


@dataclass(frozen=True)
class Preset:
    issuer: str | None = None  # OIDC discovery, `{directoryId}`/`{domain}` filled in
    authorization_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None
    jwks_url: str | None = None
    emails_url: str | None = None  # GitHub: the verified addresses of the account
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    claims: dict[str, str] = field(default_factory=lambda: dict(OIDC_CLAIMS))
    pkce: bool = True
    nonce: bool = True
    form_post: bool = False
    # Whether the provider's `email` is verified when it says nothing (None: never trust).
    email_verified_default: bool = False


PRESETS: dict[str, Preset] = {
    "google": Preset(issuer="https://accounts.google.com"),
    "github": Preset(
        authorization_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
        userinfo_url="https://api.github.com/user",
        emails_url="https://api.github.com/user/emails",
        scopes=("read:user", "user:email"),
        claims={"subject": "id", "email": "email", "name": "name", "image": "avatar_url"},
        nonce=False,
    ),
    "azure": Preset(issuer="https://login.microsoftonline.com/{directoryId}/v2.0"),
    "linkedin": Preset(issuer="https://www.linkedin.com/oauth"),
    "facebook": Preset(
        authorization_url="https://www.facebook.com/v19.0/dialog/oauth",
        token_url="https://graph.facebook.com/v19.0/oauth/access_token",
        userinfo_url="https://graph.facebook.com/me?fields=id,name,email,picture",
        scopes=("public_profile", "email"),
        claims={"subject": "id", "email": "email", "name": "name", "image": "picture.data.url"},
        nonce=False,
    ),
    "apple": Preset(
        issuer="https://appleid.apple.com",
        authorization_url="https://appleid.apple.com/auth/authorize",
        token_url="https://appleid.apple.com/auth/token",
        jwks_url="https://appleid.apple.com/auth/keys",
        scopes=("name", "email"),
        form_post=True,
    ),
    "okta": Preset(issuer="https://{domain}"),
    "custom": Preset(),
}


class ProviderUnavailable(PortcullisError, status=502, error_type="provider_error"):
    """The provider's discovery document or keys could not be read."""


@dataclass(frozen=True)
class Endpoints:
    """Where one configured provider is reached, resolved."""

    issuer: str | None
    authorization_url: str
    token_url: str
    userinfo_url: str | None
    jwks_url: str | None
    emails_url: str | None


_discovered: dict[str, tuple[float, dict[str, Any]]] = {}


def _get_json(url: str) -> Any:
    import httpx  # only a sign-on fetches (discovery, JWKS): off the admin routes' import

    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT, follow_redirects=False)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable("The sign-in provider could not be reached") from exc


def discover(issuer: str) -> dict[str, Any]:
    """The issuer's OIDC discovery document (cached for an hour per process)."""
    now = time.monotonic()
    cached = _discovered.get(issuer)
    if cached and cached[0] > now:
        return cached[1]
    document = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if not isinstance(document, dict):
        raise ProviderUnavailable("The sign-in provider's configuration is invalid")
    _discovered[issuer] = (now + DISCOVERY_SECONDS, document)
    return document


def jwks(url: str) -> dict[str, Any]:
    """The provider's key set; read fresh per sign-in (keys rotate, a stale cache
    would refuse valid tokens and a long one keep revoked keys)."""
    keys = _get_json(url)
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        raise ProviderUnavailable("The sign-in provider's keys are invalid")
    return keys


def issuer_of(name: str, settings: dict[str, Any]) -> str | None:
    override = settings.get("endpoints") or {}
    if override.get("issuer"):
        return str(override["issuer"])
    if name == CUSTOM:
        return settings.get("issuer")
    preset = PRESETS[name].issuer
    if preset is None:
        return None
    return preset.format(
        directoryId=settings.get("directoryId") or "common", domain=settings.get("domain") or ""
    )


def resolve(name: str, settings: dict[str, Any]) -> Endpoints:
    """The endpoints of a configured provider: explicit URLs win over the preset's,
    and an issuer's discovery document fills what is still missing."""
    preset = PRESETS[name]
    override = settings.get("endpoints") or {}
    issuer = issuer_of(name, settings)

    def pick(key: str, preset_value: str | None) -> str | None:
        return override.get(key) or settings.get(key) or preset_value

    found = {
        "authorizationUrl": pick("authorizationUrl", preset.authorization_url),
        "tokenUrl": pick("tokenUrl", preset.token_url),
        "userInfoUrl": pick("userInfoUrl", preset.userinfo_url),
        "jwksUrl": pick("jwksUrl", preset.jwks_url),
    }
    if issuer and not all(found[k] for k in ("authorizationUrl", "tokenUrl", "jwksUrl")):
        document = discover(issuer)
        discovered = {
            "authorizationUrl": document.get("authorization_endpoint"),
            "tokenUrl": document.get("token_endpoint"),
            "userInfoUrl": document.get("userinfo_endpoint"),
            "jwksUrl": document.get("jwks_uri"),
        }
        found = {k: v or discovered[k] for k, v in found.items()}
    if not found["authorizationUrl"] or not found["tokenUrl"]:
        raise ProviderUnavailable("The sign-in provider's endpoints are unknown")
    emails_url = override.get("emailsUrl") or preset.emails_url
    return Endpoints(
        issuer=issuer,
        authorization_url=str(found["authorizationUrl"]),
        token_url=str(found["tokenUrl"]),
        userinfo_url=found["userInfoUrl"],
        jwks_url=found["jwksUrl"],
        emails_url=emails_url,
    )


def scopes(name: str, settings: dict[str, Any]) -> list[str]:
    chosen = settings.get("scopes")
    return list(chosen) if chosen else list(PRESETS[name].scopes)


def claim_names(name: str, settings: dict[str, Any]) -> dict[str, str]:
    return {**PRESETS[name].claims, **(settings.get("claimMapping") or {})}
