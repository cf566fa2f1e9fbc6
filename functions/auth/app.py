"""Client-to-server sign-up, log-in, reset and verification (api-client §6–§8, §9.3,
§9.9–9.10, §7.11), at the tenant paths and at the legacy short paths (§0.1, §14.2),
which take the tenant from the body's `tenantId`: one function serves both.

The bodies are `portcullis.auth.inputs`. `PUT .../auth/basic` shares its path with
password log-in but is the signed-in user's password update.
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from collections.abc import Callable
from typing import Any, TypeVar, get_type_hints

from portcullis.auth import context, link, password, reset, selfservice, verify
from portcullis.auth import pkce as pkce_exchange
from portcullis.auth.inputs import (
    Body,
    CodeLogIn,
    LinkCredentials,
    LogIn,
    PasswordUpdate,
    PkceExchange,
    Reset,
    ResetLink,
    SendCode,
    SendLink,
    SignUp,
    TotpLogIn,
    TotpRemoval,
    VerifyEmail,
    VerifyPhone,
)
from portcullis.auth.responses import LOG_IN, RECEIPT, SIGNED_IN, TOTP_SETUP
from portcullis.platform.bodies import query
from portcullis.platform.http import create_app, handler, header, source_ip
from portcullis.platform.responses import MESSAGE
from portcullis.sessions import tokenauth


def _token_route_credentials(resolver: Any) -> None:
    """The password update and removing TOTP are token-authenticated here (checked
    before the body is); the rest are public or take a first-factor token."""
    event = resolver.current_event
    path = event.path.rstrip("/")
    if (event.http_method == "PUT" and path.endswith("/auth/basic")) or (
        event.http_method == "DELETE" and path == "/v0/auth/totp"
    ):
        tokenauth.authenticate(header(resolver, "authorization"), source_ip(resolver))


app = create_app(credentials=_token_route_credentials)


def _origin() -> str | None:
    return header(app, "x-origin") or header(app, "origin")


def _request(
    tenant_path: str | None, body: Body, *, pkce: bool = False, factor: bool = False
) -> context.Request:
    """The tenant-scoped request. The endpoints the client sends `code_challenge` to
    honour it (PKCE, §7.11); factor endpoints look at a first-factor token the client
    may attach (§11.6); sign-up ignores that token."""
    return context.load(
        context.tenant_from(tenant_path, body.tenantId),
        origin=_origin(),
        ip=source_ip(app),
        user_agent=header(app, "user-agent"),
        code_challenge=query(app, "code_challenge") if pkce else None,
        authorization=header(app, "authorization") if factor else None,
    )


def _client() -> verify.Client:
    return verify.Client(
        header(app, "authorization"), _origin(), source_ip(app), header(app, "user-agent")
    )


def _tenant_or_token(tenant_path: str | None, body: Body) -> str | None:
    """Verify email/phone: a legacy call may leave the tenant to its access token."""
    if tenant_path is None and body.tenantId is None:
        return None
    return context.tenant_from(tenant_path, body.tenantId)


B = TypeVar("B", bound=Body)
Route = Callable[[str | None, B], dict[str, Any]]


def _route(
    method: str, path: str, *aliases: str, responses: dict[int, Any] | None = None
) -> Callable[[Route[B]], Route[B]]:
    """Serve `handle(tenant_path, body)` at `/v0/tenants/<tenantId>/auth{path}` and at
    the legacy `/v0/auth{path}` (and `aliases`), where `tenant_path` is None and the
    tenant comes from the body's `tenantId` (§0.1, §14.2). The body model is the one
    `handle` declares; an absent body is that model with every field unset."""

    def register(handle: Route[B]) -> Route[B]:
        model = get_type_hints(handle)["body"]

        def at_tenant(tenantId: str, body: Any = None) -> dict[str, Any]:
            return handle(tenantId, body or model())

        def at_legacy(body: Any = None) -> dict[str, Any]:
            return handle(None, body or model())

        for route in (at_tenant, at_legacy):
            route.__annotations__["body"] = model | None  # what Powertools validates
        app.route(f"/v0/tenants/<tenantId>/auth{path}", method, responses=responses)(at_tenant)
        for legacy in (path, *aliases):
            app.route(f"/v0/auth{legacy}", method, responses=responses)(at_legacy)
        return handle

    return register


@_route("POST", "/create", responses=LOG_IN)
def sign_up(tenant_path: str | None, body: SignUp) -> dict[str, Any]:
    return password.sign_up(_request(tenant_path, body, pkce=True), body)


@_route("POST", "/basic", responses=LOG_IN)
def log_in(tenant_path: str | None, body: LogIn) -> dict[str, Any]:
    return password.log_in(
        _request(tenant_path, body, pkce=True, factor=True),
        identifier=body.emailOrUsername or body.email or body.username,
        password=body.password,
        no_reset_email=bool(body.option("noResetEmail")),
    )


@_route("POST", "/password/migrate", responses=LOG_IN)
def migrate_log_in(tenant_path: str | None, body: LogIn) -> dict[str, Any]:
    """§7.3: password log-in that may ask the tenant's old login service (passthrough)
    and then answers its JSON as `upstreamResponse`."""
    return password.log_in(
        _request(tenant_path, body, pkce=True, factor=True),
        identifier=body.emailOrUsername or body.email or body.username,
        password=body.password,
        no_reset_email=bool(body.option("noResetEmail")),
        migrate=True,
    )


@_route("PUT", "/basic", responses=MESSAGE)
def update_password(tenant_path: str | None, body: PasswordUpdate) -> dict[str, Any]:
    """At the legacy path the tenant comes from the access token (§14.2)."""
    caller = tokenauth.authenticate(header(app, "authorization"), source_ip(app))
    caller.require_tenant(tenant_path)
    context.tenant_from(caller.tenant_id, body.tenantId)
    return selfservice.update_password(
        caller, password=body.password, existing_password=body.existingPassword
    )


@_route("POST", "/link", responses=MESSAGE)
def send_link(tenant_path: str | None, body: SendLink) -> dict[str, Any]:
    return link.send(_request(tenant_path, body), body)


@_route("PUT", "/link", responses=LOG_IN)
def link_log_in(tenant_path: str | None, body: LinkCredentials) -> dict[str, Any]:
    request = _request(tenant_path, body, pkce=True, factor=True)
    return link.log_in(request, token=body.token, uuid=body.uuid)


@_route("POST", "/code", responses=MESSAGE)
def send_code(tenant_path: str | None, body: SendCode) -> dict[str, Any]:
    from portcullis.auth import code  # off the import path: only the code routes use it

    return code.send(_request(tenant_path, body, factor=True), body)


@_route("PUT", "/code", responses=LOG_IN)
def code_log_in(tenant_path: str | None, body: CodeLogIn) -> dict[str, Any]:
    from portcullis.auth import code  # off the import path: only the code routes use it

    return code.log_in(_request(tenant_path, body, pkce=True, factor=True), body)


@_route("POST", "/totp", responses=LOG_IN)
def totp_log_in(tenant_path: str | None, body: TotpLogIn) -> dict[str, Any]:
    from portcullis.auth import totp  # off the import path: only the TOTP routes use it

    return totp.log_in(_request(tenant_path, body, pkce=True, factor=True), body)


@app.get("/v0/auth/totp", responses=TOTP_SETUP)
def totp_setup() -> dict[str, Any]:
    """An access token, or the first-factor token of a sign-in that enrols (§9.5)."""
    from portcullis.auth import totp  # off the import path: only the TOTP routes use it

    return totp.setup(totp.setup_caller(header(app, "authorization"), source_ip(app)))


@app.delete("/v0/auth/totp", responses=MESSAGE)
def totp_removal(body: TotpRemoval | None = None) -> dict[str, Any]:
    from portcullis.auth import totp  # off the import path: only the TOTP routes use it

    caller = tokenauth.authenticate(header(app, "authorization"), source_ip(app))
    request = context.token_request(
        caller, origin=_origin(), ip=source_ip(app), user_agent=header(app, "user-agent")
    )
    return totp.remove(request, caller, body or TotpRemoval())


@_route("POST", "/reset/link", responses=MESSAGE)
def send_reset_link(tenant_path: str | None, body: ResetLink) -> dict[str, Any]:
    request = _request(tenant_path, body)
    return reset.send_link(request, email=body.email, redirect=body.option("redirect"))


@_route("PUT", "/reset", responses=LOG_IN)
def reset_password(tenant_path: str | None, body: Reset) -> dict[str, Any]:
    request = _request(tenant_path, body)
    return reset.reset(request, uuid=body.uuid, token=body.token, password=body.password)


@_route("POST", "/verify/email", "/verify/link", responses=RECEIPT)  # `verify/link`: the 2021 name
def verify_email(tenant_path: str | None, body: VerifyEmail) -> dict[str, Any]:
    return verify.verify_email(_tenant_or_token(tenant_path, body), _client(), body)


@_route("POST", "/verify/phone", responses=RECEIPT)
def verify_phone(tenant_path: str | None, body: VerifyPhone) -> dict[str, Any]:
    return verify.verify_phone(_tenant_or_token(tenant_path, body), _client(), body)


@app.post("/v0/tenants/<tenantId>/auth/pkce", responses=SIGNED_IN)
def pkce(tenantId: str, body: PkceExchange | None = None) -> dict[str, Any]:
    """Tenant path only: the PKCE exchange is newer than the legacy short paths."""
    body = body or PkceExchange()
    context.tenant_from(tenantId, body.tenantId)
    return pkce_exchange.exchange(
        tenantId, code=body.authorizationCode, verifier=body.codeVerifier, ip=source_ip(app)
    )


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
