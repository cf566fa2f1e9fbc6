"""Client-to-server sign-up, log-in, reset and verification (api-client §6–§8, §9.3,
§9.9–9.10, §7.11), at the tenant paths and at the legacy short paths (§0.1, §14.2),
which take the tenant from the body's `tenantId`.

Bodies ignore unknown fields (the client sends `options`, `linkType`... that older
servers did not know) and treat `null` as absent (§0.2). `PUT .../auth/basic` shares
its path with password log-in but is the signed-in user's password update.
"""

import gc
from typing import Any

from pydantic import BaseModel, ConfigDict

from portcullis import selfservice, sessions
from portcullis.auth import code, context, link, password, reset, verify
from portcullis.auth import pkce as pkce_exchange
from portcullis.http import create_app, handler, header, source_ip
from portcullis.requests import query


def _token_route_credentials(resolver: Any) -> None:
    """Only the password update is token-authenticated here; the rest are public."""
    event = resolver.current_event
    if event.http_method == "PUT" and event.path.rstrip("/").endswith("/auth/basic"):
        sessions.authenticate(header(resolver, "authorization"), source_ip(resolver))


app = create_app(credentials=_token_route_credentials)

# Built on first use: a cold start builds only the model of the route it serves.
_LENIENT = ConfigDict(strict=True, extra="ignore", defer_build=True)


class Options(BaseModel):
    model_config = _LENIENT
    noSignupEmail: bool | None = None
    noResetEmail: bool | None = None
    redirect: str | None = None


class Body(BaseModel):
    """Fields every endpoint may carry: the legacy tenant id and the client's options."""

    model_config = _LENIENT
    tenantId: str | None = None
    options: Options | None = None

    def option(self, name: str) -> Any:
        return getattr(self.options, name) if self.options else None


class SignUp(Body):
    email: str | None = None
    password: str | None = None
    username: str | None = None
    name: str | None = None
    data: dict[str, Any] | None = None


class LogIn(Body):
    emailOrUsername: str | None = None
    email: str | None = None
    username: str | None = None
    password: str | None = None


class PasswordUpdate(Body):
    password: str | None = None
    existingPassword: str | None = None


class SendLink(Body):
    email: str | None = None
    name: str | None = None
    username: str | None = None
    data: dict[str, Any] | None = None


class LinkCredentials(Body):
    token: str | None = None
    uuid: str | None = None


class SendCode(Body):
    channel: str | None = None
    phoneNumber: str | None = None
    email: str | None = None
    name: str | None = None
    username: str | None = None
    data: dict[str, Any] | None = None


class CodeLogIn(Body):
    channel: str | None = None
    verificationCode: str | None = None
    phoneNumber: str | None = None
    email: str | None = None


class ResetLink(Body):
    email: str | None = None


class Reset(Body):
    uuid: str | None = None
    token: str | None = None
    password: str | None = None


class VerifyEmail(Body):
    email: str | None = None
    userId: int | None = None
    userUuid: str | None = None


class VerifyPhone(Body):
    phoneNumber: str | None = None
    userId: int | None = None
    userUuid: str | None = None


class PkceExchange(Body):
    authorizationCode: str | None = None
    codeVerifier: str | None = None


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


def _tenant_or_token(tenant_path: str | None, body: Body) -> str | None:
    """Verify email/phone: a legacy call may leave the tenant to its access token."""
    if tenant_path is None and body.tenantId is None:
        return None
    return context.tenant_from(tenant_path, body.tenantId)


# ----------------------------------------------------------------------------- handlers


def _sign_up(tenant_path: str | None, body: SignUp | None) -> dict[str, Any]:
    body = body or SignUp()
    return password.sign_up(
        _request(tenant_path, body, pkce=True),
        email=body.email,
        password=body.password,
        username=body.username,
        name=body.name,
        data=body.data,
        no_signup_email=bool(body.option("noSignupEmail")),
    )


def _log_in(tenant_path: str | None, body: LogIn | None) -> dict[str, Any]:
    body = body or LogIn()
    return password.log_in(
        _request(tenant_path, body, pkce=True, factor=True),
        identifier=body.emailOrUsername or body.email or body.username,
        password=body.password,
        no_reset_email=bool(body.option("noResetEmail")),
    )


def _update_password(tenant_path: str | None, body: PasswordUpdate | None) -> dict[str, Any]:
    body = body or PasswordUpdate()
    caller = sessions.authenticate(header(app, "authorization"), source_ip(app))
    caller.require_tenant(tenant_path)
    context.tenant_from(caller.tenant_id, body.tenantId)
    return selfservice.update_password(
        caller, password=body.password, existing_password=body.existingPassword
    )


def _send_link(tenant_path: str | None, body: SendLink | None) -> dict[str, Any]:
    body = body or SendLink()
    return link.send(
        _request(tenant_path, body),
        email=body.email,
        name=body.name,
        username=body.username,
        data=body.data,
        redirect=body.option("redirect"),
        no_signup_email=bool(body.option("noSignupEmail")),
    )


def _link_log_in(tenant_path: str | None, body: LinkCredentials | None) -> dict[str, Any]:
    body = body or LinkCredentials()
    return link.log_in(
        _request(tenant_path, body, pkce=True, factor=True),
        token=body.token,
        uuid=body.uuid,
    )


def _send_code(tenant_path: str | None, body: SendCode | None) -> dict[str, Any]:
    body = body or SendCode()
    return code.send(
        _request(tenant_path, body, factor=True),
        channel=body.channel,
        phone_number=body.phoneNumber,
        email=body.email,
        name=body.name,
        username=body.username,
        data=body.data,
    )


def _code_log_in(tenant_path: str | None, body: CodeLogIn | None) -> dict[str, Any]:
    body = body or CodeLogIn()
    return code.log_in(
        _request(tenant_path, body, pkce=True, factor=True),
        channel=body.channel,
        verification_code=body.verificationCode,
        phone_number=body.phoneNumber,
        email=body.email,
    )


def _reset_link(tenant_path: str | None, body: ResetLink | None) -> dict[str, Any]:
    body = body or ResetLink()
    return reset.send_link(
        _request(tenant_path, body), email=body.email, redirect=body.option("redirect")
    )


def _reset(tenant_path: str | None, body: Reset | None) -> dict[str, Any]:
    body = body or Reset()
    return reset.reset(
        _request(tenant_path, body), uuid=body.uuid, token=body.token, password=body.password
    )


def _verify_email(tenant_path: str | None, body: VerifyEmail | None) -> dict[str, Any]:
    body = body or VerifyEmail()
    return verify.verify_email(
        _tenant_or_token(tenant_path, body),
        authorization=header(app, "authorization"),
        origin=_origin(),
        ip=source_ip(app),
        user_agent=header(app, "user-agent"),
        email=body.email,
        user_id=body.userId,
        user_uuid=body.userUuid,
        redirect=body.option("redirect"),
    )


def _verify_phone(tenant_path: str | None, body: VerifyPhone | None) -> dict[str, Any]:
    body = body or VerifyPhone()
    return verify.verify_phone(
        _tenant_or_token(tenant_path, body),
        authorization=header(app, "authorization"),
        origin=_origin(),
        ip=source_ip(app),
        user_agent=header(app, "user-agent"),
        phone_number=body.phoneNumber,
        user_id=body.userId,
        user_uuid=body.userUuid,
    )


# ------------------------------------------------------------------------ tenant paths


@app.post("/v0/tenants/<tenantId>/auth/create")
def sign_up(tenantId: str, body: SignUp | None = None) -> dict[str, Any]:
    return _sign_up(tenantId, body)


@app.post("/v0/tenants/<tenantId>/auth/basic")
def log_in(tenantId: str, body: LogIn | None = None) -> dict[str, Any]:
    return _log_in(tenantId, body)


@app.put("/v0/tenants/<tenantId>/auth/basic")
def update_password(tenantId: str, body: PasswordUpdate | None = None) -> dict[str, Any]:
    return _update_password(tenantId, body)


@app.post("/v0/tenants/<tenantId>/auth/link")
def send_link(tenantId: str, body: SendLink | None = None) -> dict[str, Any]:
    return _send_link(tenantId, body)


@app.put("/v0/tenants/<tenantId>/auth/link")
def link_log_in(tenantId: str, body: LinkCredentials | None = None) -> dict[str, Any]:
    return _link_log_in(tenantId, body)


@app.post("/v0/tenants/<tenantId>/auth/code")
def send_code(tenantId: str, body: SendCode | None = None) -> dict[str, Any]:
    return _send_code(tenantId, body)


@app.put("/v0/tenants/<tenantId>/auth/code")
def code_log_in(tenantId: str, body: CodeLogIn | None = None) -> dict[str, Any]:
    return _code_log_in(tenantId, body)


@app.post("/v0/tenants/<tenantId>/auth/reset/link")
def send_reset_link(tenantId: str, body: ResetLink | None = None) -> dict[str, Any]:
    return _reset_link(tenantId, body)


@app.put("/v0/tenants/<tenantId>/auth/reset")
def reset_password(tenantId: str, body: Reset | None = None) -> dict[str, Any]:
    return _reset(tenantId, body)


@app.post("/v0/tenants/<tenantId>/auth/verify/email")
def verify_email(tenantId: str, body: VerifyEmail | None = None) -> dict[str, Any]:
    return _verify_email(tenantId, body)


@app.post("/v0/tenants/<tenantId>/auth/verify/phone")
def verify_phone(tenantId: str, body: VerifyPhone | None = None) -> dict[str, Any]:
    return _verify_phone(tenantId, body)


@app.post("/v0/tenants/<tenantId>/auth/pkce")
def pkce(tenantId: str, body: PkceExchange | None = None) -> dict[str, Any]:
    body = body or PkceExchange()
    context.tenant_from(tenantId, body.tenantId)
    return pkce_exchange.exchange(
        tenantId, code=body.authorizationCode, verifier=body.codeVerifier, ip=source_ip(app)
    )


# ------------------------------------------------------------------------ legacy paths


@app.post("/v0/auth/create")
def legacy_sign_up(body: SignUp | None = None) -> dict[str, Any]:
    return _sign_up(None, body)


@app.post("/v0/auth/basic")
def legacy_log_in(body: LogIn | None = None) -> dict[str, Any]:
    return _log_in(None, body)


@app.put("/v0/auth/basic")
def legacy_update_password(body: PasswordUpdate | None = None) -> dict[str, Any]:
    """The tenant comes from the access token (§14.2)."""
    return _update_password(None, body)


@app.post("/v0/auth/link")
def legacy_send_link(body: SendLink | None = None) -> dict[str, Any]:
    return _send_link(None, body)


@app.put("/v0/auth/link")
def legacy_link_log_in(body: LinkCredentials | None = None) -> dict[str, Any]:
    return _link_log_in(None, body)


@app.post("/v0/auth/code")
def legacy_send_code(body: SendCode | None = None) -> dict[str, Any]:
    return _send_code(None, body)


@app.put("/v0/auth/code")
def legacy_code_log_in(body: CodeLogIn | None = None) -> dict[str, Any]:
    return _code_log_in(None, body)


@app.post("/v0/auth/reset/link")
def legacy_send_reset_link(body: ResetLink | None = None) -> dict[str, Any]:
    return _reset_link(None, body)


@app.put("/v0/auth/reset")
def legacy_reset_password(body: Reset | None = None) -> dict[str, Any]:
    return _reset(None, body)


@app.post("/v0/auth/verify/email")
def legacy_verify_email(body: VerifyEmail | None = None) -> dict[str, Any]:
    return _verify_email(None, body)


@app.post("/v0/auth/verify/link")
def legacy_verify_link(body: VerifyEmail | None = None) -> dict[str, Any]:
    """The 2021 name of verify email."""
    return _verify_email(None, body)


@app.post("/v0/auth/verify/phone")
def legacy_verify_phone(body: VerifyPhone | None = None) -> dict[str, Any]:
    return _verify_phone(None, body)


lambda_handler = handler(app)

# Initialisation ends here. Freeze what the imports built so that collections skip it
# for good: a first request would otherwise pay a full collection over all of it.
gc.freeze()
