"""SSO (api-client §7.10; docs/sso.md): the browser's `GET`/`POST /v0/auth/{provider}/login`
(start and provider callback on one path) and the admin API of a tenant's providers
(`/v0/tenants/{tenantId}/sso...`, admin of the tenant, in the caller's mode; secrets are
never answered).
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from portcullis.access import callers
from portcullis.access.apicaller import api_caller
from portcullis.platform.bodies import json_body, query
from portcullis.platform.http import Response, create_app, handler, header, source_ip
from portcullis.platform.responses import MESSAGE
from portcullis.sso import config, identities
from portcullis.sso.responses import IDENTITIES, PROVIDER, PROVIDERS, SIGN_ON

if TYPE_CHECKING:
    from portcullis.sso import flow


def _credentials(resolver: Any) -> None:
    """The browser's sign-on path is public; every other route needs an admin caller."""
    if not resolver.current_event.path.startswith("/v0/auth/"):
        api_caller(resolver)


app = create_app(credentials=_credentials)
MAX_FORM_BYTES = 16_384


def _scope(tenant_id: str) -> tuple[str, str]:
    """(mode, tenant id) the caller administers; checked before the body is read."""
    who: callers.Caller = api_caller(app)
    return who.mode, who.tenant(tenant_id, "admin").tenantId


def _redirect(target: "flow.Redirect") -> Response[str]:
    return Response(
        status_code=302,
        content_type="text/plain",
        body="",
        headers={"Location": target.location, "Cache-Control": "no-store"},
    )


def _form() -> dict[str, str]:
    """Apple's `response_mode=form_post` callback body (url-encoded)."""
    raw = app.current_event.decoded_body or ""
    if len(raw) > MAX_FORM_BYTES:
        return {}
    return {k: v[0] for k, v in parse_qs(raw, max_num_fields=20).items()}


def _sign_on(provider: str, values: dict[str, str | None]) -> Response[str]:
    # Imported here: the sign-on flow (flow context, completion, sessions and tokens)
    # serves only the browser's two sign-on routes, not the providers' admin API.
    from portcullis.sso import flow

    ip, agent = source_ip(app), header(app, "user-agent")
    if any(values.get(k) for k in ("state", "code", "error")):
        target = flow.callback(
            provider,
            state=values.get("state"),
            code=values.get("code"),
            error=values.get("error"),
            ip=ip,
            user_agent=agent,
        )
    else:
        target = flow.start(
            provider,
            tenant_id=values.get("tenant_id"),
            origin=values.get("origin"),
            provider_id=values.get("provider_id"),
            redirect=values.get("redirect"),
            data=values.get("data"),
            ip=ip,
            user_agent=agent,
        )
    return _redirect(target)


PARAMS = ("state", "code", "error", "tenant_id", "origin", "provider_id", "redirect", "data")


@app.get("/v0/auth/<provider>/login", responses=SIGN_ON)
def sign_on(provider: str) -> Response[str]:
    return _sign_on(provider, {name: query(app, name) for name in PARAMS})


@app.post("/v0/auth/<provider>/login", responses=SIGN_ON)
def sign_on_form_post(provider: str) -> Response[str]:
    form = _form()
    return _sign_on(provider, {name: form.get(name) or query(app, name) for name in PARAMS})


@app.get("/v0/tenants/<tenantId>/sso", responses=PROVIDERS)
def list_providers(tenantId: str) -> dict[str, Any]:
    return config.list_all(*_scope(tenantId))


@app.get("/v0/tenants/<tenantId>/sso/custom/<providerId>", responses=PROVIDER)
def read_custom(tenantId: str, providerId: str) -> dict[str, Any]:
    return config.read(*_scope(tenantId), "custom", providerId)


@app.put("/v0/tenants/<tenantId>/sso/custom/<providerId>", responses=PROVIDER)
def save_custom(tenantId: str, providerId: str) -> dict[str, Any]:
    mode, tenant_id = _scope(tenantId)
    return config.save(mode, tenant_id, "custom", providerId, json_body(app))


@app.delete("/v0/tenants/<tenantId>/sso/custom/<providerId>", responses=MESSAGE)
def remove_custom(tenantId: str, providerId: str) -> dict[str, Any]:
    return config.remove(*_scope(tenantId), "custom", providerId)


@app.get("/v0/tenants/<tenantId>/sso/<provider>", responses=PROVIDER)
def read_provider(tenantId: str, provider: str) -> dict[str, Any]:
    return config.read(*_scope(tenantId), provider, None)


@app.put("/v0/tenants/<tenantId>/sso/<provider>", responses=PROVIDER)
def save_provider(tenantId: str, provider: str) -> dict[str, Any]:
    mode, tenant_id = _scope(tenantId)
    return config.save(mode, tenant_id, provider, None, json_body(app))


@app.delete("/v0/tenants/<tenantId>/sso/<provider>", responses=MESSAGE)
def remove_provider(tenantId: str, provider: str) -> dict[str, Any]:
    return config.remove(*_scope(tenantId), provider, None)


@app.get("/v0/tenants/<tenantId>/users/<userId>/sso", responses=IDENTITIES)
def read_identities(tenantId: str, userId: str) -> dict[str, Any]:
    """`userId` is the user's uuid, as in every `/v0/tenants/{tenantId}/users/...` path."""
    return identities.list_for(*_scope(tenantId), userId)


@app.delete("/v0/tenants/<tenantId>/users/<userId>/sso/<provider>/<subject>", responses=IDENTITIES)
def unlink(tenantId: str, userId: str, provider: str, subject: str) -> dict[str, Any]:
    # Subjects are opaque (an email, a URL...): sent percent-encoded in the path.
    return identities.unlink(*_scope(tenantId), userId, unquote(provider), unquote(subject))


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
