"""No client input is a 5xx, on any route (issue 8, item 5: the class fix).

Every route of `template.yaml` (the route table the local runtime serves and API Gateway
deploys) gets Hypothesis-generated path parameters, query strings and bodies: JSON
documents built from the API's own field names, with odd values (huge and negative
integers, non-finite numbers, unpaired surrogates, non-ASCII digits, deep nesting),
and bodies that are not JSON at all. Each is sent over HTTP to the local runtime with a
valid admin key of a tenant of its own and with no credential; the answer must never
be a 5xx. A failure prints the smallest request Hypothesis found.

Bounded for CI: `PORTCULLIS_NO_5XX_EXAMPLES` examples per route (default 15; a fifth
of that for the `ANY` routes, which only answer 405), one shared runtime, no deadline.
Raise it locally to search harder: `PORTCULLIS_NO_5XX_EXAMPLES=200 make test`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from authkit import bearer, new_tenant, unique_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.runtime import DEFAULT_TEMPLATE
from infra.local.template import ApiRoute, SamTemplate
from infra.local.testing import loopback_address

EXAMPLES = int(os.environ.get("PORTCULLIS_NO_5XX_EXAMPLES", "15"))
OTHER_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def _routes() -> list[ApiRoute]:
    """Every (method, path) of the template; `ANY` routes (405 and preflight) once."""
    routes = SamTemplate.load(DEFAULT_TEMPLATE).routes
    return sorted(set(routes), key=lambda r: (r.path, r.method))


ROUTES = _routes()


def _id(route: ApiRoute) -> str:
    return f"{route.method} {route.path}"


# Every field name the API reads somewhere, so generated objects get past "is not allowed"
# often enough to reach the deeper checks.
FIELDS = (
    "email", "password", "name", "username", "phoneNumber", "image", "data", "roles",
    "locked", "isMfaRequired", "isEmailConfirmed", "userId", "userUuid", "uuid", "token",
    "emailOrUsername", "options", "filters", "order", "page", "limit", "search",
    "continuation", "type", "tenantId", "key", "rateLimits", "liveDomains",
    "authentication", "mfa", "senderEmail", "accessTokenDuration", "refreshTokenDuration",
    "loginRedirectPath", "code", "verificationCode", "channel", "strategy", "redirect",
    "redirectTo", "duration", "roleName", "roleNames", "existingPassword", "sessionId",
    "codeChallenge", "code_verifier", "authorizationCode", "firstFactor", "secondFactor",
    "totpCode", "backupCode", "firstFactorTokenSeconds", "policy",
    "subject", "html", "text",
)  # fmt: skip
QUERY_NAMES = (
    "page", "limit", "order", "search", "test", "active", "continuation", "mode",
    "status", "event", "since",
    "code_challenge", "redirect", "tenantId", "type", "token", "uuid",
)  # fmt: skip

# Text with what broke things before: unpaired surrogates, non-ASCII digits, controls.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
ODD_DIGITS = st.sampled_from(["²", "³", "\u0663", "\uff11", "1_000", "-1", "0", "1e3", " 7"])
NUMERIC_TEXT = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    ODD_DIGITS,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=1, max_value=6000).map(lambda n: int("9" * min(n, 4000))),
    st.floats(allow_nan=True, allow_infinity=True),
    ANY_TEXT,
    NUMERIC_TEXT,
    st.sampled_from(["admin", "test", "live", "and", "or", "is", "contains", "string"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), ANY_TEXT), inner, max_size=4),
    ),
    max_leaves=12,
)
OBJECTS = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=5)


def _json(value: Any) -> bytes:
    # ensure_ascii: an unpaired surrogate travels as the JSON escape "\ud800".
    return json.dumps(value, ensure_ascii=True).encode("ascii")


RAW_BODIES = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"[" * 5000, b'{"a":' * 3000, b"NaN", b'"\\ud800"', b"{", b"null"]),
    st.integers(min_value=4000, max_value=6000).map(lambda n: b'{"page": ' + b"9" * n + b"}"),
)
BODIES = st.one_of(
    st.none(),
    OBJECTS.map(_json),
    JSON_VALUES.map(_json),
    RAW_BODIES,
)


@dataclass(frozen=True)
class Sandbox:
    """A tenant of the test's own (roomy limits), its admin key, a user and a child."""

    tenant_id: str
    admin: str
    user_id: int
    child_id: str
    workspace_id: str


@pytest.fixture(scope="module")
def sandbox(base_url: str, workspace: Any) -> Sandbox:
    root = workspace.key("test", "admin")
    tenant_id = new_tenant(base_url, root, name="No 5xx")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        made = http.post(
            "/v0/keys", json={"type": "admin", "tenantId": tenant_id}, headers=bearer(root)
        )
        assert made.status_code == 200, made.text
        admin = made.json()["key"]
        user = http.post("/v0/users", json={"email": unique_email("no5xx")}, headers=bearer(admin))
        assert user.status_code == 200, user.text
        child = http.post("/v0/tenants", json={"name": "Victim"}, headers=bearer(admin))
        assert child.status_code == 200, child.text
    return Sandbox(
        tenant_id, admin, int(user.json()["userId"]), child.json()["tenantId"], workspace.tenant_id
    )


@pytest.fixture(scope="module")
def http(base_url: str) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=loopback_address("test_no_5xx"))
    with httpx.Client(base_url=base_url, timeout=60, transport=transport) as client:
        yield client


def _segment(known: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(known), NUMERIC_TEXT, ANY_TEXT.filter(bool))


def _parameters(route: ApiRoute, box: Sandbox) -> dict[str, st.SearchStrategy[str]]:
    tenants = [box.tenant_id, box.child_id, box.workspace_id, "zzzz1111"]
    if route.method == "DELETE" or route.path.endswith("/settings"):
        tenants.remove(box.tenant_id)  # keep the sandbox itself (and its limits) usable
    return {
        "tenantId": _segment(tenants),
        "userId": _segment([str(box.user_id), "0", "-1", "00001", "createOrUpdate"]),
        "roleName": _segment(["admin", "member", "nope"]),
        "sessionId": _segment(["00000000-0000-4000-8000-000000000000"]),
        "webhookId": _segment(["00000000-0000-4000-8000-000000000000"]),
        "importId": _segment(["00000000-0000-7000-8000-000000000000"]),
        "type": _segment(["admin", "readonly", "webhook", "jwt"]),
        "mode": _segment(["test", "live"]),
        "emailType": _segment(["login", "code.sms", "nope"]),
    }


def _path(route: ApiRoute, values: dict[str, str]) -> str:
    path = route.path
    for name, value in values.items():
        path = path.replace(
            "{" + name + "}", quote(value.encode("utf-8", "surrogatepass"), safe="")
        )
    return path


def _send(route: ApiRoute, data: st.DataObject, box: Sandbox, http: httpx.Client) -> None:
    strategies = _parameters(route, box)
    names = [n for n in strategies if "{" + n + "}" in route.path]
    values = {n: data.draw(strategies[n], label=n) for n in names}
    method = route.method
    if method == "ANY":
        method = data.draw(st.sampled_from(OTHER_METHODS), label="method")
    query = data.draw(
        st.dictionaries(
            st.one_of(st.sampled_from(QUERY_NAMES), ANY_TEXT), NUMERIC_TEXT | ANY_TEXT, max_size=3
        ),
        label="query",
    )
    body = data.draw(BODIES, label="body") if method != "GET" else None
    credential = data.draw(st.sampled_from(["admin", "none"]), label="credential")

    url = _path(route, values)
    if query:
        encoded = {
            k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass")
            for k, v in query.items()
        }
        url += "?" + urlencode(encoded)
    headers = {"content-type": "application/json"}
    if credential == "admin":
        headers.update(bearer(box.admin))
    response = http.request(method, url, content=body, headers=headers)
    assert response.status_code < 500, (method, url, body, response.status_code, response.text)


LIMITS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method != "ANY"], ids=_id)
@settings(max_examples=EXAMPLES, **LIMITS)
@given(data=st.data())
def test_no_route_answers_5xx_to_client_input(
    route: ApiRoute, data: st.DataObject, sandbox: Sandbox, http: httpx.Client
) -> None:
    _send(route, data, sandbox, http)


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "ANY"], ids=_id)
@settings(max_examples=max(1, EXAMPLES // 5), **LIMITS)
@given(data=st.data())
def test_no_other_method_answers_5xx(
    route: ApiRoute, data: st.DataObject, sandbox: Sandbox, http: httpx.Client
) -> None:
    """The `ANY` routes: methods a path does not serve (405), and their inputs."""
    _send(route, data, sandbox, http)
