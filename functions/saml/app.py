"""SAML 2.0 identity provider (api-client §12, concepts §9.1, docs/saml.md): IdP
information and the SP registry for admins (API key, live mode), the metadata and the
SP-facing SSO/SLO endpoints, and the client-facing token, login and logout. The
browser-facing endpoints answer HTML (error pages included), never the JSON envelope.
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from portcullis.access.apicaller import api_caller
from portcullis.platform.bodies import json_body
from portcullis.platform.errors import BadRequest, Forbidden, PortcullisError
from portcullis.platform.http import Response, create_app, handler, header, source_ip
from portcullis.saml import flows, idp, keys, sps
from portcullis.saml.responses import HAND_OFF, IDP, SP, SPS
from portcullis.search.envelope import list_envelope
from portcullis.sessions import tokenauth

app = create_app(credentials=api_caller)

HTML = "text/html; charset=utf-8"
# Browser-facing pages: never cached, never framed, and no Referer (the login URL carries
# the SAML token). The form posts to the SP's registered https URL.
NO_STORE = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; form-action https:; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def _admin(tenant_id: str, level: str = "admin") -> str:
    who = api_caller(app)
    if who.mode != "live":
        raise Forbidden(flows.LIVE_ONLY)
    return who.tenant(tenant_id, "admin" if level == "admin" else "read").tenantId


# -- admin: IdP information, certificates, SP registry -------------------------------


@app.get("/v0/tenants/<tenantId>/saml/idp", responses=IDP)
def idp_info(tenantId: str) -> dict[str, Any]:
    return idp.info(_admin(tenantId, "read"))


@app.post("/v0/tenants/<tenantId>/saml/idp/certificates", responses=IDP)
def rotate_certificate(tenantId: str) -> dict[str, Any]:
    tenant = keys.live_tenant(_admin(tenantId))
    keys.rotate(keys.workspace_of(tenant))
    return idp.info(tenant.tenantId)


@app.delete("/v0/tenants/<tenantId>/saml/idp/certificates/<kid>", responses=IDP)
def remove_certificate(tenantId: str, kid: str) -> dict[str, Any]:
    tenant = keys.live_tenant(_admin(tenantId))
    keys.remove(keys.workspace_of(tenant), kid)
    return idp.info(tenant.tenantId)


@app.post("/v0/tenants/<tenantId>/saml/sps", responses=SP)
def create_sp(tenantId: str) -> dict[str, Any]:
    tenant_id = _admin(tenantId)
    return sps.create(tenant_id, json_body(app))


@app.get("/v0/tenants/<tenantId>/saml/sps", responses=SPS)
def list_sps(tenantId: str) -> dict[str, Any]:
    return list_envelope(sps.list_all(_admin(tenantId, "read")), meta=False)


@app.get("/v0/tenants/<tenantId>/saml/sps/<spId>", responses=SP)
def read_sp(tenantId: str, spId: str) -> dict[str, Any]:
    return sps.read(_admin(tenantId, "read"), spId)


@app.put("/v0/tenants/<tenantId>/saml/sps/<spId>", responses=SP)
def update_sp(tenantId: str, spId: str) -> dict[str, Any]:
    tenant_id = _admin(tenantId)
    return sps.replace(tenant_id, spId, json_body(app))


@app.delete("/v0/tenants/<tenantId>/saml/sps/<spId>", responses=SP)
def delete_sp(tenantId: str, spId: str) -> dict[str, Any]:
    return sps.delete(_admin(tenantId), spId)


# -- SP-facing: metadata, SSO, SLO ------------------------------------------------------


def _html(status: int, body: str, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status, content_type=HTML, body=body, headers={**NO_STORE, **(headers or {})}
    )


def _error(error: PortcullisError) -> Response[str]:
    return _html(error.status_code, flows.error_page(error))


def _params() -> tuple[str, dict[str, str]]:
    """Binding and parameters: query (HTTP-Redirect) or urlencoded form (HTTP-POST)."""
    event = app.current_event
    if event.http_method == "POST":
        try:
            return "post", dict(parse_qsl(event.body or "", max_num_fields=10))
        except ValueError:  # more fields than any binding sends
            raise BadRequest("Too many form fields") from None
    return "redirect", dict(event.query_string_parameters or {})


def _metadata(tenant_id: str) -> Response[str]:
    try:
        document = idp.metadata(tenant_id)
    except PortcullisError as error:
        return _error(error)
    return Response(status_code=200, content_type="application/samlmetadata+xml", body=document)


def _receive(tenant_id: str, kind: str) -> Response[str]:
    try:
        binding, params = _params()
        redirect = flows.receive(tenant_id, kind, binding, params, source_ip(app))
    except PortcullisError as error:
        return _error(error)
    return Response(
        status_code=302,
        body="",
        headers={**NO_STORE, "Location": redirect.location, "Set-Cookie": redirect.cookie},
    )


@app.get("/v0/tenants/<tenantId>/auth/saml/idp/metadata")
def metadata(tenantId: str) -> Response[str]:
    return _metadata(tenantId)


@app.route("/v0/tenants/<tenantId>/auth/saml/idp/sso", ["GET", "POST"])
def sso(tenantId: str) -> Response[str]:
    return _receive(tenantId, "login")


@app.route("/v0/tenants/<tenantId>/auth/saml/idp/slo", ["GET", "POST"])
def slo(tenantId: str) -> Response[str]:
    return _receive(tenantId, "logout")


# -- client-facing: token, login, logout (and concepts §9.1's alias URLs) --------------


@app.get("/v0/auth/saml/idp/token", responses=HAND_OFF)
def token() -> dict[str, Any]:
    caller = tokenauth.authenticate(header(app, "authorization"), source_ip(app))
    return flows.issue_token(caller)


def _pending_cookie(tenant_id: str) -> str | None:
    raw = header(app, "cookie") or ""
    try:
        jar = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = jar.get(flows.cookie_name(tenant_id))
    return morsel.value if morsel else None


def _complete(kind: str) -> Response[str]:
    query = dict(app.current_event.query_string_parameters or {})
    tenant_id = query.get("tenant_id") or ""
    try:
        _binding, params = _params()
        if "SAMLRequest" in params:  # an SP using concepts §9.1's URL
            return _receive(tenant_id, kind)
        form = flows.complete(kind, query, _pending_cookie(tenant_id), source_ip(app))
    except PortcullisError as error:
        return _error(error)
    return _html(200, flows.form_page(form), {"Set-Cookie": form.clear_cookie})


@app.route("/v0/auth/saml/idp/login", ["GET", "POST"])
def login() -> Response[str]:
    return _complete("login")


@app.route("/v0/auth/saml/idp/logout", ["GET", "POST"])
def logout() -> Response[str]:
    return _complete("logout")


@app.get("/v0/auth/saml/idp/metadata")
def metadata_alias() -> Response[str]:
    return _metadata((app.current_event.query_string_parameters or {}).get("tenant_id") or "")


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
