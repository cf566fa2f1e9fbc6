"""`GET`/`POST /v0/auth/{provider}/login` (api-client §7.10, §6.4, §6.5): start and
callback of a sign-on on one path.

Start: the tenant, mode (from `origin`, §0.6), redirect and custom `data` are checked
and kept in a state record (10 minutes, single use, keyed by the digest of a 256-bit
`state`) with the PKCE verifier and the OIDC nonce; the browser goes to the provider.

Callback: the state record is taken (deleted) first; tenant, mode, origin and redirect
come only from it. The code is exchanged (with the verifier), the identity read from an
ID token Authlib validated (signature against the provider's JWKS, issuer, audience,
nonce, expiry) or from the user-info endpoint of a plain OAuth 2 provider. The user is
found by (provider, subject), else by an email the provider says is verified (and the
identity recorded), else created; an unverified email that an account already holds is
refused (`email_in_use`). The browser then goes to the page with a single-use `sso`
link credential (5 minutes), exchanged by the link log-in (§7.5), which answers tokens
or "MFA required". User-facing failures are 302s with `?error=`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from portcullis.auth import context, identity
from portcullis.auth.context import Request
from portcullis.credentials import links
from portcullis.platform import config as platform_config
from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import BadRequest, NotFound, PortcullisError
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import perip
from portcullis.sso import providers
from portcullis.sso.config import Provider, check_name, load
from portcullis.store import sso as store
from portcullis.store import transactions
from portcullis.store import users as user_store
from portcullis.tenancy.modes import LOCAL_ORIGIN
from portcullis.tenancy.state import tenant_state
from portcullis.webhooks import targets

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session as OAuth2Client

_log = logging.getLogger(__name__)
STATE_SECONDS = 600
LINK_SECONDS = 300
MAX_DATA_BYTES = 2048
DATA_INVALID = "data must be a JSON object"
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
LEEWAY_SECONDS = 60
APPLE_AUDIENCE = "https://appleid.apple.com"


@dataclass(frozen=True)
class Redirect:
    """A 302 to `location`."""

    location: str


class SignOnFailed(Exception):
    """A user-facing failure of the callback: `code` goes to the page as `?error=`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def redirect_uri(name: str) -> str:
    """The one callback URL customers register with the provider (concepts §9.2)."""
    return platform_config.public_url(f"/v0/auth/{name}/login")


# ------------------------------------------------------------------ start


def _data(raw: str | None) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    if len(raw.encode()) > MAX_DATA_BYTES:
        raise BadRequest(DATA_INVALID)
    try:
        value = json.loads(raw)
    except ValueError:
        raise BadRequest(DATA_INVALID) from None
    if not isinstance(value, dict):
        raise BadRequest(DATA_INVALID)
    return value


def _client(provider: Provider, endpoints: providers.Endpoints) -> OAuth2Client:
    # Authlib (with joserfc and cryptography) only when a sign-on needs it: the admin
    # routes of this function never do (docs/performance.md "Cold start").
    from authlib.integrations.requests_client import OAuth2Session as OAuth2Client

    preset = providers.PRESETS[provider.name]
    return OAuth2Client(
        client_id=provider.settings.get("clientId"),
        client_secret=_client_secret(provider),
        scope=" ".join(providers.scopes(provider.name, provider.settings)),
        redirect_uri=redirect_uri(provider.name),
        code_challenge_method="S256" if preset.pkce else None,
        token_endpoint_auth_method="client_secret_post",
    )


def _client_secret(provider: Provider) -> str | None:
    """Apple's client secret is a short-lived ES256 JWT signed with the tenant's key
    (Apple's documented form); everyone else's is the stored secret."""
    secret_values = provider.open_secrets()
    if provider.name != "apple":
        return secret_values.get("clientSecret")
    import jwt as pyjwt  # Apple only

    now = int(time.time())
    claims = {
        "iss": provider.settings.get("teamId"),
        "iat": now,
        "exp": now + 300,
        "aud": APPLE_AUDIENCE,
        "sub": provider.settings.get("clientId"),
    }
    headers = {"kid": provider.settings.get("keyId")}
    try:
        return pyjwt.encode(claims, secret_values.get("privateKey", ""), "ES256", headers=headers)
    except (ValueError, TypeError, pyjwt.PyJWTError) as exc:
        raise SignOnFailed("provider_error") from exc


def start(
    name: str,
    *,
    tenant_id: str | None,
    origin: str | None,
    provider_id: str | None,
    redirect: str | None,
    data: str | None,
    ip: str,
    user_agent: str | None,
) -> Redirect:
    """Check the request, store the state, answer the provider's authorization URL."""
    if not tenant_id:
        raise BadRequest("tenant_id is required")
    if not origin:
        raise BadRequest("origin is required")
    check_name(name, provider_id)
    req = context.load(tenant_id, origin=origin, ip=ip, user_agent=user_agent)
    perip.count_request(req.mode, req.tenant_id, req.ip, req.limits)
    target = req.redirect(redirect, field="redirect")
    custom_data = _data(data)
    provider = load(req.mode, req.tenant_id, name, provider_id)
    if provider is None or not provider.ready:
        raise NotFound("Provider not found")
    try:
        endpoints = providers.resolve(name, provider.settings)
    except providers.ProviderUnavailable as failed:
        # The provider's discovery failed: the user goes back to the page, not to a 5xx.
        _log.warning("sso sign-on not started: %s", failed.message)
        return _page(req, [("error", "provider_error")])
    preset = providers.PRESETS[name]
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48) if preset.pkce else None
    oidc = bool(endpoints.jwks_url)
    nonce = secrets.token_urlsafe(24) if oidc else None
    store.put_state(
        secret_digest(state),
        mode=req.mode,
        tenant_id=req.tenant_id,
        provider=name,
        state={
            "providerId": provider_id,
            "origin": req.link_origin(),
            "redirect": target,
            "data": custom_data,
            "verifier": verifier,
            "nonce": nonce,
        },
        expires_at=int(time.time()) + STATE_SECONDS,
    )
    extra: dict[str, str] = {}
    if nonce:
        extra["nonce"] = nonce
    if preset.form_post:
        extra["response_mode"] = "form_post"
    with _client(provider, endpoints) as client:
        url, _ = client.create_authorization_url(
            endpoints.authorization_url, state=state, code_verifier=verifier, **extra
        )
    return Redirect(url)


# ------------------------------------------------------------------ callback


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    image: str | None


def _claim(values: dict[str, Any], path: str | None) -> Any:
    """A claim by name; a dotted name reads nested objects (`picture.data.url`)."""
    if not path:
        return None
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _truthy(value: Any) -> bool:
    """`email_verified` is a boolean, but Apple sends the string "true"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _identity(name: str, provider: Provider, values: dict[str, Any]) -> Identity:
    names = providers.claim_names(name, provider.settings)
    subject = _claim(values, names.get("subject"))
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignOnFailed("provider_error")
    email = _claim(values, names.get("email"))
    verified = _truthy(_claim(values, names.get("emailVerified")))
    picture = _claim(values, names.get("image"))
    display = _claim(values, names.get("name"))
    return Identity(
        subject=subject,
        email=email if isinstance(email, str) and email else None,
        email_verified=verified,
        name=display if isinstance(display, str) else None,
        image=picture if isinstance(picture, str) else None,
    )


def _check_target(url: str, mode: str) -> None:
    """Every server-side call to the provider follows the webhook rules at call time
    (https and public addresses in live mode)."""
    try:
        targets.resolve(url, mode)
    except targets.TargetRefused as exc:
        raise SignOnFailed("provider_error") from exc


def _verified_id_token(
    provider: Provider, endpoints: providers.Endpoints, token: dict[str, Any], nonce: str | None
) -> dict[str, Any]:
    """The claims of the token response's ID token, validated by Authlib's OIDC rules
    (signature against the JWKS, `iss`, `aud`, `nonce`, `exp`, `iat`, `at_hash`)."""
    from authlib.oidc.core import CodeIDToken
    from joserfc import jwt as jose_jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet
    from joserfc.jws import JWSRegistry

    assert endpoints.jwks_url is not None
    _check_target(endpoints.jwks_url, provider.mode)
    try:
        keys = KeySet.import_key_set(providers.jwks(endpoints.jwks_url))  # type: ignore[arg-type]
        decoded = jose_jwt.decode(
            token["id_token"], keys, registry=JWSRegistry(algorithms=ID_TOKEN_ALGORITHMS)
        )
        options: dict[str, Any] = {}
        issuer = endpoints.issuer
        if issuer and "{tenantid}" not in issuer.lower():
            options["iss"] = {"essential": True, "value": issuer}
        if provider.name == "azure" and (provider.settings.get("directoryId") or "common") in (
            "common",
            "organizations",
            "consumers",
        ):
            # Multi-tenant Entra ID: the issuer names the user's own directory.
            options["iss"] = {
                "essential": True,
                "validate": lambda claims, value: (
                    value == f"https://login.microsoftonline.com/{claims.get('tid')}/v2.0"
                ),
            }
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options,
            {
                "nonce": nonce,
                "client_id": provider.settings.get("clientId"),
                "access_token": token.get("access_token"),
            },
        )
        claims.validate(leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise SignOnFailed("provider_error") from exc
    if nonce is None or claims.get("nonce") != nonce:
        raise SignOnFailed("provider_error")
    return dict(claims)


def _read_identity(
    name: str, provider: Provider, endpoints: providers.Endpoints, state: dict[str, Any], code: str
) -> Identity:
    _check_target(endpoints.token_url, provider.mode)
    with _client(provider, endpoints) as client:
        try:
            token = client.fetch_token(
                endpoints.token_url,
                code=code,
                code_verifier=state.get("verifier"),
                timeout=providers.HTTP_TIMEOUT,
            )
        except Exception as exc:  # any failure of the exchange is the provider's
            raise SignOnFailed("provider_error") from exc
        if not isinstance(token, dict) or not token.get("access_token"):
            raise SignOnFailed("provider_error")
        values: dict[str, Any] = {}
        if endpoints.jwks_url and token.get("id_token"):
            values = _verified_id_token(provider, endpoints, token, state.get("nonce"))
        elif endpoints.jwks_url and state.get("nonce"):
            raise SignOnFailed("provider_error")  # an OIDC provider must send its ID token
        if endpoints.userinfo_url and (not values or not values.get("email")):
            _check_target(endpoints.userinfo_url, provider.mode)
            try:
                response = client.get(endpoints.userinfo_url, timeout=providers.HTTP_TIMEOUT)
                response.raise_for_status()
                info = response.json()
            except Exception as exc:  # the provider's answer, whatever failed
                raise SignOnFailed("provider_error") from exc
            if not isinstance(info, dict):
                raise SignOnFailed("provider_error")
            if values:
                # OIDC Core 5.3.2: user info is only about the token's subject.
                if info.get("sub") != values.get("sub"):
                    raise SignOnFailed("provider_error")
                values = {**info, **values}
            else:
                values = info
        found = _identity(name, provider, values)
        if endpoints.emails_url and not found.email_verified:
            found = _github_email(client, endpoints.emails_url, provider.mode, found)
    return found


def _github_email(client: OAuth2Client, url: str, mode: str, found: Identity) -> Identity:
    """GitHub's user object has no verified flag: its emails list does."""
    _check_target(url, mode)
    try:
        response = client.get(url, timeout=providers.HTTP_TIMEOUT)
        response.raise_for_status()
        emails = response.json()
    except Exception:  # no list: the identity stays unverified
        return found
    for entry in emails if isinstance(emails, list) else []:
        if isinstance(entry, dict) and entry.get("primary") and entry.get("verified"):
            address = entry.get("email")
            if isinstance(address, str) and address:
                return Identity(found.subject, address, True, found.name, found.image)
    return found


def _request(item: store.SsoStateItem, ip: str, user_agent: str | None) -> Request:
    """The flow context of the state record's tenant and mode (never the callback's)."""
    tenant = tenant_state(item.mode, item.tenantId)
    if tenant is None:
        raise SignOnFailed("invalid_state")
    return Request(
        tenant_id=item.tenantId,
        mode=item.mode,
        tenant=tenant.tenant,
        settings=tenant.settings,
        origin=item.state.get("origin"),
        ip=ip,
        user_agent=user_agent,
        link_base=item.state.get("origin") or LOCAL_ORIGIN,
    )


def _page(req: Request, params: list[tuple[str, str]]) -> Redirect:
    path = req.settings.logoutRedirectPath
    separator = "&" if "?" in path else "?"
    return Redirect(f"{req.link_origin().rstrip('/')}{path}{separator}{urlencode(params)}")


def _profile(found: Identity, data: dict[str, Any] | None) -> dict[str, Any]:
    """The provider's name and picture when our rules accept them (a provider's odd
    value must not stop the sign-up), the §6.5 data as the client sent it."""
    fields: dict[str, Any] = {}
    for key, value in (("name", found.name), ("image", found.image)):
        if value:
            with contextlib.suppress(BadRequest):
                fields.update(identity.profile(**{key: value}))
    if data:
        fields.update(identity.profile(data=data))
    return fields


def _user_for(
    req: Request, key: str, found: Identity, data: dict[str, Any] | None
) -> tuple[user_store.UserItem, bool]:
    """(user, whether the provider proved the user's email); writes the identity
    record (and a new user) as needed."""
    linked = store.find_identity(req.mode, req.tenant_id, key, found.subject)
    if linked is not None:
        user = user_store.get_user(req.mode, req.tenant_id, int(linked.userId))
        if user is None or user.userUuid != linked.userUuid:
            store.delete_identity(linked)  # the user is gone: a stale record
            linked = None
        else:
            proved = (
                found.email_verified
                and found.email is not None
                and (found.email.lower() == (user.email or ""))
            )
            return user, proved
    if not found.email:
        raise SignOnFailed("email_required")
    try:
        address = identity.email(found.email)
    except BadRequest:
        raise SignOnFailed("email_required") from None
    existing = identity.find_by_email(req, address)
    stamp = now_iso()
    if existing is not None:
        if not found.email_verified:
            raise SignOnFailed("email_in_use")
        record = store.new_identity(
            req.mode,
            req.tenant_id,
            key,
            found.subject,
            int(existing.userId),
            existing.userUuid,
            stamp,
        )
        try:
            transactions.commit([record], [], save_conditions={0: store.identity_condition()})
        except transactions.WriteConflict:
            raise SignOnFailed("provider_error") from None
        return existing, True
    user = identity.new_user(req, email_address=address, fields=_profile(found, data))
    record = store.new_identity(
        req.mode, req.tenant_id, key, found.subject, int(user.userId), user.userUuid, stamp
    )
    try:
        identity.create(req, user, [record])
    except BadRequest:
        raise SignOnFailed("email_in_use") from None
    return user, found.email_verified


def callback(
    name: str,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    ip: str,
    user_agent: str | None,
) -> Redirect:
    """The provider's return: a 302 to the page with link credentials or `?error=`.

    A state that is missing, forged, used or expired names no page to return to: 400
    `invalid_state` (JSON), since the callback's own origin is the provider's."""
    if name not in providers.ALL:
        raise NotFound("Provider not found")
    item = None
    if isinstance(state, str) and 0 < len(state) <= 256:
        item = store.take_state(secret_digest(state), provider=name, now=int(time.time()))
    if item is None:
        raise BadRequest("invalid_state", error_type="invalid_state")
    try:
        req = _request(item, ip, user_agent)
    except SignOnFailed as failed:
        raise BadRequest(failed.code, error_type=failed.code) from None
    saved: dict[str, Any] = dict(item.state or {})
    try:
        if error:
            raise SignOnFailed("access_denied" if error == "access_denied" else "provider_error")
        if not code or len(code) > 4096:
            raise SignOnFailed("provider_error")
        provider = load(req.mode, req.tenant_id, name, saved.get("providerId"))
        if provider is None or not provider.ready:
            raise SignOnFailed("provider_error")
        endpoints = providers.resolve(name, provider.settings)
        found = _read_identity(name, provider, endpoints, saved, code)
        user, proved = _user_for(req, provider.key, found, saved.get("data"))
    except SignOnFailed as failed:
        _log.warning("sso sign-on refused: %s", failed.code, exc_info=failed.__cause__ is not None)
        return _page(req, [("error", failed.code)])
    except PortcullisError as failed:
        _log.warning("sso sign-on failed: %s", failed.message)
        return _page(req, [("error", "provider_error")])
    token, link_item = links.new_link_item(
        user, "sso", LINK_SECONDS, purpose={"emailVerified": proved}
    )
    store_link(link_item)
    params = [("uuid", user.userUuid), ("token", token), ("type", "sso")]
    if saved.get("redirect"):
        params.append(("redirect", saved["redirect"]))
    return _page(req, params)


def store_link(item: Any) -> None:
    transactions.commit([item], [])
