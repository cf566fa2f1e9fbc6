"""The authorization matrix (issue 8 item 2): every server route of `template.yaml` ×
every kind of caller → the expected status, and no 2xx that shows anything outside the
caller's scope.

The routes are read from the template (every API event of a function whose resolver
checks an API credential, i.e. `create_app(credentials=api_caller)`, or whose routes call
`api_caller` themselves next to public ones, minus those public routes), so a new route is
in the matrix the moment it is in the template. Each caller is aimed at what lies
OUTSIDE its scope: a tenant it must not reach (→ 403), a user it must not address
(→ 404), a key or address outside it named in the body; a caller whose token no longer
grants anything gets 401/403 everywhere. Rows whose outcome is legitimately open (an
account-level write on the caller's own tenant) are checked for leaks only: any 2xx
must not contain the data marker of a user outside the scope, a sign-in link for such
a user, or its roles outside the scope.

Fast by construction: the world (`accesskit.world`) is built once per worker and every
row is one HTTP request without argon2 work.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from accesskit import World, world
from authkit import bearer, unique_email

__all__ = ["world"]  # the fixture, imported for pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
TENANT_PREFIX = "/v0/tenants/{tenantId}"
# Rows refused for the credential count against authFailuresPerIp (20 a minute by
# default): each address sends fewer than that.
ROWS_PER_ADDRESS = 15
# Public routes of a function whose other routes check an API credential (the jwts
# function: verification keys are public, api-server §12.1-12.2).
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/v0/tenants/{tenantId}/keys/jwt"),
        ("GET", "/v0/tenants/{tenantId}/jwks"),
        ("GET", "/v0/tenants/{tenantId}/jwks/{mode}"),
        # The browser's SSO sign-on (docs/sso.md): start and provider callback.
        ("GET", "/v0/auth/{provider}/login"),
        ("POST", "/v0/auth/{provider}/login"),
        # The saml function's SP- and browser-facing routes (docs/saml.md): no credential,
        # or the user's access token (`/token`); its admin routes are in the matrix.
        ("GET", "/v0/tenants/{tenantId}/auth/saml/idp/metadata"),
        ("GET", "/v0/tenants/{tenantId}/auth/saml/idp/sso"),
        ("POST", "/v0/tenants/{tenantId}/auth/saml/idp/sso"),
        ("GET", "/v0/tenants/{tenantId}/auth/saml/idp/slo"),
        ("POST", "/v0/tenants/{tenantId}/auth/saml/idp/slo"),
        ("GET", "/v0/auth/saml/idp/token"),
        ("GET", "/v0/auth/saml/idp/login"),
        ("POST", "/v0/auth/saml/idp/login"),
        ("GET", "/v0/auth/saml/idp/logout"),
        ("POST", "/v0/auth/saml/idp/logout"),
        ("GET", "/v0/auth/saml/idp/metadata"),
    }
)


# ------------------------------------------------------------------------ the routes


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (`!Ref`, `!Sub`...) as plain values."""


def _plain(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_TemplateLoader.add_multi_constructor("!", _plain)


def server_routes() -> list[tuple[str, str]]:
    """(method, path) of every API-credential route in the template (not `ANY`)."""
    return sorted(_route_functions())


@functools.cache
def _route_functions() -> dict[tuple[str, str], str]:
    """(method, path) -> the logical id of the function serving it, for every route of
    a function whose resolver checks an API credential."""
    template = yaml.load(TEMPLATE.read_text(), Loader=_TemplateLoader)  # noqa: S506
    routes = {}
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        code = ROOT / str(properties.get("CodeUri", "")) / "app.py"
        if not code.is_file() or "api_caller" not in code.read_text():
            continue
        for event in (properties.get("Events") or {}).values():
            api = event.get("Properties") or {}
            if event.get("Type") == "Api" and api.get("Method", "").upper() != "ANY":
                route = (api["Method"].upper(), api["Path"])
                if route not in PUBLIC_ROUTES:
                    routes[route] = name
    return routes


# ------------------------------------------------------------------------ the callers


@dataclass(frozen=True)
class Caller:
    name: str
    credential: Callable[[World], str]
    outside_tenant: Callable[[World], str]  # a tenant it must not reach
    outside_user: str  # a user (world.users) it must not address
    outside_key: str  # a key (world.keys) of a tenant it must not reach
    invitee: str  # a user outside its scope whose address it invites
    # A child tenant it may act in: such a caller also gets rows in it, aimed at a user
    # outside the child's subtree (a workspace-wide caller's home rows would repeat its
    # account-level rows).
    home: Callable[[World], str] | None = None
    refused: int | None = None  # the status of every row: the credential grants nothing
    readonly: bool = False


CALLERS = [
    Caller(
        "workspace admin key",
        lambda w: w.keys["workspace"],
        lambda w: w.X,
        "o_user",
        "o_spare",
        "o_invitee",
    ),
    Caller(
        "readonly key",
        lambda w: w.keys["readonly"],
        lambda w: w.X,
        "o_user",
        "o_spare",
        "o_invitee",
        readonly=True,
    ),
    Caller(
        "child key",
        lambda w: w.keys["child"],
        lambda w: w.W,
        "victim",
        "w_spare",
        "invitee",
        home=lambda w: w.C,
    ),
    Caller(
        "sibling key",
        lambda w: w.keys["sibling"],
        lambda w: w.C,
        "victim",
        "w_spare",
        "invitee",
        home=lambda w: w.S,
    ),
    Caller(
        "key of another workspace",
        lambda w: w.keys["other"],
        lambda w: w.W,
        "victim",
        "w_spare",
        "invitee",
    ),
    Caller(
        "JWT with admin only in a child",
        lambda w: str(w.users["child_admin"].token),
        lambda w: w.W,
        "victim",
        "w_spare",
        "invitee",
        home=lambda w: w.C,
    ),
    Caller(
        "JWT whose role was removed",
        lambda w: str(w.users["removed"].token),
        lambda w: w.W,
        "victim",
        "w_spare",
        "invitee",
        refused=403,
    ),
    Caller(
        "JWT from before a password reset",
        lambda w: str(w.users["reset"].token),
        lambda w: w.W,
        "victim",
        "w_spare",
        "invitee",
        refused=401,
    ),
    Caller(
        "test-mode credential on a live tenant",
        lambda w: w.keys["workspace"],
        lambda w: w.L,
        "live_user",
        "live_spare",
        "live_invitee",
    ),
]


# ------------------------------------------------------------------------ the rows


def _tail(path: str) -> str:
    """A tenant-level route's account-level twin (`/v0/tenants/{tenantId}/users` →
    `/v0/users`); other paths as they are."""
    if path.startswith(TENANT_PREFIX + "/") and path.split("/")[4] in (
        "users",
        "roles",
        "auth",
        "imports",
    ):
        return "/v0" + path[len(TENANT_PREFIX) :]
    return path


def _body(method: str, path: str, caller: Caller, w: World) -> Any:
    tail = _tail(path)
    outside = w.users[caller.outside_user]
    invitee = w.users[caller.invitee]
    key_body = {"key": w.keys[caller.outside_key]}
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/v0/tenants"): {"name": "Matrix"},
        ("PUT", "/v0/tenants/{tenantId}"): {"name": "Renamed"},
        ("POST", "/v0/tenants/{tenantId}/tenants"): {"name": "Matrix"},
        ("POST", "/v0/tenants/{tenantId}/tenants/find"): {},
        ("PUT", "/v0/tenants/{tenantId}/settings"): {"loginRedirectPath": "/matrix"},
        ("POST", "/v0/keys"): {"type": "readonly", "tenantId": caller.outside_tenant(w)},
        ("DELETE", "/v0/keys"): key_body,
        ("POST", "/v0/keys/verify"): key_body,
        ("PUT", "/v0/keys/invalidate"): key_body,
        ("POST", "/v0/users"): {"email": unique_email("matrix")},
        ("POST", "/v0/users/find"): {},
        ("POST", "/v0/users/invite"): {"email": invitee.email},
        ("POST", "/v0/users/createOrUpdate"): {"email": unique_email("matrix"), "name": "M"},
        ("PUT", "/v0/users/{userId}"): {"name": "Renamed"},
        ("POST", "/v0/auth/link/generate"): {"email": outside.email},
        ("POST", "/v0/roles"): {"name": "matrix-role"},
        ("DELETE", "/v0/roles"): {"name": "no-such-role"},
        ("POST", "/v0/roles/invite"): {"email": invitee.email, "roles": ["member"]},
        ("PUT", "/v0/users/{userId}/roles"): {"roles": []},
        ("POST", "/v0/users/{userId}/roles"): {"roles": []},
        ("POST", "/v0/imports"): {"users": [{"email": unique_email("matrix")}]},
    }
    return bodies.get((method, tail))


def _addresses_someone(path: str, method: str) -> bool:
    """The route names a user (path or body) or invites one: worth a row in the
    caller's own tenant too, aimed at a user outside its scope."""
    tail = _tail(path)
    return "{userId}" in path or tail in ("/v0/auth/link/generate",) or tail.endswith("/invite")


@dataclass(frozen=True)
class Row:
    caller: Caller
    method: str
    route: str
    path: str
    body: Any
    expected: frozenset[int] | None  # None: open outcome, checked for leaks only

    def label(self) -> str:
        return f"{self.caller.name:40} {self.method:6} {self.route} -> {self.path}"


def _expected(caller: Caller, method: str, route: str, in_home: bool) -> frozenset[int] | None:
    if caller.refused is not None:
        return frozenset({caller.refused})
    tail = _tail(route)
    write = method != "GET" and not route.endswith("/find")
    if route.startswith(TENANT_PREFIX) and not in_home:
        return frozenset({403})
    if caller.readonly and write:
        return frozenset({403})
    if caller.readonly and tail.startswith("/v0/keys"):
        return frozenset({403})  # every key route wants an admin credential
    if "{userId}" in route:
        return frozenset({404})
    if tail == "/v0/auth/link/generate":
        return frozenset({404})
    if route == "/v0/keys" and method == "POST":
        return frozenset({403})
    if route in ("/v0/keys", "/v0/keys/verify", "/v0/keys/invalidate"):
        return frozenset({400, 404})  # no such key in scope (verify: "Invalid API key")
    return None


def _path(route: str, tenant: str, caller: Caller, w: World) -> str:
    values = {
        "tenantId": tenant,
        "userId": w.users[caller.outside_user].uuid,
        "roleName": "no-such-role",
        "type": "readonly",
        "sessionId": str(uuid.uuid4()),
        "emailType": "login",
        "webhookId": str(uuid.uuid4()),
        "importId": str(uuid.uuid4()),
        "kid": str(uuid.uuid4()),
        "provider": "google",
        "providerId": "no-such-provider",
        "subject": "no-such-subject",
        "spId": str(uuid.uuid4()),
    }
    return route.format(**values)


def build_rows(w: World) -> list[Row]:
    rows = []
    routes = server_routes()
    for caller in CALLERS:
        for method, route in routes:
            outside = caller.outside_tenant(w)
            rows.append(
                Row(
                    caller,
                    method,
                    route,
                    _path(route, outside, caller, w),
                    _body(method, route, caller, w),
                    _expected(caller, method, route, in_home=False),
                )
            )
            if (
                caller.home
                and route.startswith(TENANT_PREFIX)
                and _addresses_someone(route, method)
            ):
                rows.append(
                    Row(
                        caller,
                        method,
                        route,
                        _path(route, caller.home(w), caller, w),
                        _body(method, route, caller, w),
                        _expected(caller, method, route, in_home=True),
                    )
                )
    return rows


# ------------------------------------------------------------------------ the checks


def _leaks(row: Row, answer: httpx.Response, w: World) -> str | None:
    """What a 2xx answer shows that lies outside the caller's scope, if anything."""
    text = answer.text
    outside = w.users[row.caller.outside_user]
    if outside.marker in text:
        return "shows a user outside the scope"
    invitee = w.users[row.caller.invitee]
    try:
        body = answer.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("userUuid") == invitee.uuid:
        # An invitation may reach an existing user by email; the answer must not carry
        # a sign-in link for them nor their roles outside the scope.
        if "link" in body:
            return "hands out a sign-in link for a user outside the scope"
        if row.caller.outside_tenant(w) in (body.get("authorization") or {}):
            return "shows roles outside the scope"
    elif invitee.marker in text:
        return "shows an invited user outside the scope"
    return None


def _client_for(base_url: str, name: str) -> httpx.Client:
    digest = hashlib.sha256(name.encode()).digest()
    address = f"127.{1 + digest[0] % 250}.{digest[1]}.{1 + digest[2] % 250}"
    # Plain HTTP: no CA bundle to load (that alone costs ~50 ms per client).
    transport = httpx.HTTPTransport(local_address=address, verify=False)
    return httpx.Client(base_url=base_url, timeout=60, transport=transport)


def _run(row: Row, http: httpx.Client, w: World) -> str | None:
    answer = http.request(
        row.method,
        row.path,
        json=row.body,
        headers=bearer(row.caller.credential(w)),
    )
    status = answer.status_code
    if status >= 500:
        return f"{status} (server error): {answer.text[:200]}"
    if row.expected is not None and status not in row.expected:
        return f"{status}, expected {sorted(row.expected)}: {answer.text[:200]}"
    if row.expected is None and status == 401:
        return f"401 for a valid credential: {answer.text[:200]}"
    if 200 <= status < 300:
        leak = _leaks(row, answer, w)
        if leak:
            return f"{status} {leak}: {answer.text[:300]}"
    return None


def test_the_matrix_is_generated_from_every_server_route() -> None:
    routes = server_routes()
    paths = {path for _, path in routes}
    assert len(routes) >= 50
    for expected in (
        "/v0/tenants/{tenantId}/users/{userId}/roles",
        "/v0/tenants/{tenantId}/roles/invite",
        "/v0/users/{userId}/sessions",
        "/v0/keys",
    ):
        assert expected in paths
    assert not any(
        path.startswith("/v0/auth/") and path != "/v0/auth/link/generate" for path in paths
    )
    assert not any(path.endswith("/jwks") or path.endswith("/mode") for path in paths)


def test_authorization_matrix(base_url: str, world: World) -> None:
    rows = build_rows(world)
    assert len(rows) >= len(server_routes()) * len(CALLERS)
    # One request at a time: the local runtime runs every function in one process, and
    # Powertools keeps the current request on a class attribute shared by all resolvers,
    # so two requests at once could swap their events there (never in Lambda, where an
    # instance serves one request at a time). A client per caller and chunk of rows:
    # refused rows count against authFailuresPerIp per source address.
    failures = []
    clients: dict[str, httpx.Client] = {}
    counts: dict[str, int] = {}
    try:
        for row in rows:
            index = counts.get(row.caller.name, 0)
            counts[row.caller.name] = index + 1
            address = f"matrix:{row.caller.name}:{index // ROWS_PER_ADDRESS}"
            if address not in clients:
                clients[address] = _client_for(base_url, address)
            problem = _run(row, clients[address], world)
            if problem:
                failures.append(f"{row.label()}: {problem}")
    finally:
        for http in clients.values():
            http.close()
    assert not failures, f"{len(failures)} of {len(rows)} rows failed:\n" + "\n".join(failures)
