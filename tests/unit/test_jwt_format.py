"""The custom JWT format (api-server §12.4, concepts §2.7): the template language, the
reserved claims, the size limit at issuance, and that a format costs log-in and refresh
no extra DynamoDB call (docs/tokens.md "Custom JWTs")."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from portcullis.auth import context, password
from portcullis.platform.errors import BadRequest
from portcullis.sessions import rotation
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.tenancy import state as tenant_state
from portcullis.tenants.workspace import create_workspace
from portcullis.tokens import claims as token_claims
from portcullis.tokens import format as jwtformat
from portcullis.tokens import signing
from portcullis.users import customjwt

SESSION = "7b794d68-dc94-4829-bd68-596c5d2693b5"
FACTORS = {"firstFactor": {"channel": "email", "strategy": "password"}}


def _user(**fields: Any) -> user_store.UserItem:
    defaults: dict[str, Any] = {
        "userUuid": "3c7d1f2a-8e4b-4d0a-9b6e-51f0c2a7d944",
        "email": "jane@example.com",
        "name": "Jane",
        "data": {"nickname": "JD", "plan": {"tier": "pro", "seats": 3}},
        "roles": {"demo1234": ["admin"]},
        "createdAt": "2024-05-15T23:04:50.787Z",
        "updatedAt": "2024-05-15T23:04:50.787Z",
    }
    return user_store.new_user_item("test", "demo1234", 5, **{**defaults, **fields})


def _formatted(template: dict[str, Any] | None, user: user_store.UserItem | None = None) -> Any:
    return token_claims.formatted_access_claims(
        user or _user(), SESSION, FACTORS, 1000, 2000, template, tenant_name=lambda: "Acme"
    )


# ----------------------------------------------------------------- the language


def test_whole_placeholders_keep_their_json_type_and_missing_values_are_null() -> None:
    claims = _formatted(
        {
            "sub": "{{userUuid}}",
            "uid": "{{ userId }}",
            "roles": "{{authorization}}",
            "confirmed": "{{isEmailConfirmed}}",
            "plan": "{{data.plan}}",
            "seats": "{{data.plan.seats}}",
            "phone": "{{phoneNumber}}",
            "missing": "{{data.nope}}",
            "org": "{{tenant.name}}",
        }
    )
    assert claims["sub"] == "3c7d1f2a-8e4b-4d0a-9b6e-51f0c2a7d944"
    assert claims["uid"] == 5
    assert claims["roles"] == {"demo1234": {"roles": ["admin"]}}
    assert claims["confirmed"] is False
    assert claims["plan"] == {"tier": "pro", "seats": 3} and claims["seats"] == 3
    assert claims["phone"] is None and claims["missing"] is None
    assert claims["org"] == "Acme"


def test_interpolation_recursion_and_literals() -> None:
    claims = _formatted(
        {
            "label": "user-{{userId}} ({{email}}) {{data.nope}}!",
            "nested": {"who": "{{name}}", "deep": ["{{data.nickname}}", "x-{{isConfirmed}}", 7]},
            "app": "acme",
            "n": 1.5,
            "flag": True,
            "nothing": None,
            "text": "{{data.plan}}/{{phoneNumber}}",
        }
    )
    assert claims["label"] == "user-5 (jane@example.com) !"
    assert claims["nested"] == {"who": "Jane", "deep": ["JD", "x-false", 7]}
    assert claims["app"] == "acme" and claims["n"] == 1.5 and claims["flag"] is True
    assert claims["nothing"] is None
    assert claims["text"] == '{"tier":"pro","seats":3}/'


def test_reserved_claims_are_always_present_with_their_true_values() -> None:
    claims = _formatted({"app": "acme"})
    assert claims["mode"] == "test" and claims["tenantId"] == "demo1234"
    assert claims["userId"] == 5 and claims["sessionId"] == SESSION
    assert claims["userUuid"] == "3c7d1f2a-8e4b-4d0a-9b6e-51f0c2a7d944"
    assert claims["authorization"] == {"demo1234": {"roles": ["admin"]}}
    assert claims["iat"] == 1000 and claims["exp"] == 2000 and claims["iss"]
    # Non-reserved default claims are the format's to keep or drop.
    assert "isConfirmed" not in claims and "authentication" not in claims
    assert claims["app"] == "acme"


def test_the_default_template_gives_the_default_claims() -> None:
    assert _formatted(jwtformat.DEFAULT_TEMPLATE) == _formatted(None)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ({"sub": "{{nope}}"}, '"format.sub" uses an unknown claim path: nope'),
        ({"a": {"b": ["x", "{{user.email}}"]}}, '"format.a.b[1]" uses an unknown claim path'),
        ({"a": "{{}}"}, "unknown claim path"),
        ({"a": "{{data.}}"}, "unknown claim path: data."),
        ({"a": "{{tenant.uuid}}"}, "unknown claim path: tenant.uuid"),
        ({"iat": 1}, "Reserved claim: iat"),
        ({"exp": "{{exp}}"}, "Reserved claim: exp"),
        ({"userId": 7}, "Reserved claim: userId"),
        ({"tenantId": "{{userUuid}}"}, "Reserved claim: tenantId"),
        ({"authorization": {}}, "Reserved claim: authorization"),
        ({"sessionId": "x-{{sessionId}}"}, "Reserved claim: sessionId"),
        ({"iss": "https://evil.example"}, "Reserved claim: iss"),
        ({"nbf": 1}, '"format.nbf" is not allowed'),
        ({"type": "refresh"}, '"format.type" is not allowed'),
        ({f"k{i}": i for i in range(101)}, '"format" must contain at most 100 keys'),
        ({"big": "x" * 9000}, '"format" must be at most 8192 bytes as JSON'),
        ({"": 1}, '"format" keys must be'),
        ([], '"format" must be an object'),
    ],
)
def test_validation_refuses_with_a_message_naming_the_problem(template: Any, message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        jwtformat.validate(template)
    assert message in refused.value.message


def test_deep_nesting_is_refused() -> None:
    deep: dict[str, Any] = {"x": "{{email}}"}
    for _ in range(12):
        deep = {"d": deep}
    with pytest.raises(BadRequest, match="nested more than"):
        jwtformat.validate({"a": deep})


def test_reserved_claims_may_map_to_their_own_placeholder() -> None:
    template = {
        "sub": "{{userUuid}}",
        "tenantId": "{{tenantId}}",
        "mode": "{{mode}}",
        "userId": "{{ userId }}",
        "sessionId": "{{sessionId}}",
        "authorization": "{{authorization}}",
        "nick": "{{data.nickname}}",
        "x": "{{data.any.depth.is.fine}}",
    }
    assert jwtformat.validate(template) is template
    assert jwtformat.paths_in(template) >= {"userUuid", "data.nickname", "data.any.depth.is.fine"}


# --------------------------------------------------------------- the size limit


def test_an_oversized_formatted_token_falls_back_to_the_default_claims(
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = _user(data={"blob": "y" * 3000})
    with caplog.at_level(logging.WARNING, logger="portcullis.tokens.claims"):
        claims = _formatted({"blob": "{{data.blob}}", "app": "acme"}, user)
    assert claims == _formatted(None, user)
    assert "blob" not in claims
    assert any("too large" in record.getMessage() for record in caplog.records)
    assert all("y" * 50 not in record.getMessage() for record in caplog.records)
    small = _formatted({"blob": "{{data.nope}}", "app": "acme"}, user)
    assert small["app"] == "acme"
    assert token_claims.encoded_size(small) <= token_claims.MAX_ACCESS_TOKEN_BYTES


# ----------------------------------------------- issuance on log-in and refresh


@pytest.fixture(scope="module")
def workspace(aws: str) -> tuple[str, str]:
    created = create_workspace("JWT format unit tests")
    return created.tenant_id, created.seed_password


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    from botocore.client import BaseClient

    seen: list[str] = []
    original = BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            seen.append(operation)
        return original(client, operation, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def test_a_format_costs_log_in_and_refresh_no_extra_call(workspace: tuple[str, str]) -> None:
    tenant_id, seed_password = workspace
    tenant = tenant_store.get_tenant("test", tenant_id)
    assert tenant is not None
    template = {"org": "{{tenant.name}}", "mail": "{{email}}", "sessionId": "{{sessionId}}"}
    saved = customjwt.save_format(tenant, template)
    assert saved["isDefault"] is False and saved["format"] == template
    # Per mode: the workspace's live mode keeps the default claims.
    live = tenant_store.get_tenant("live", tenant_id)
    assert live is not None and customjwt.read_format(live)["isDefault"] is True
    tenant_state.forget()

    def request() -> context.Request:
        return context.load(
            tenant_id, origin="http://localhost:3000", ip="192.0.2.9", user_agent="ua"
        )

    password.log_in(request(), identifier="member@example.com", password=seed_password)
    req = request()  # tenant and settings: read here
    # The request carries its tenant to the signing: `{{tenant.name}}` needs no cache.
    tenant_state.forget()
    with dynamodb_calls() as login_calls:
        body = password.log_in(req, identifier="member@example.com", password=seed_password)
    assert len(login_calls) == 3
    access = signing.verify(body["tokens"]["access"]["value"]).claims
    assert access["org"] == "JWT format unit tests" and access["mail"] == "member@example.com"
    assert "isConfirmed" not in access and access["sessionId"] == body["sessionId"]
    with dynamodb_calls() as refresh_calls:
        refreshed = rotation.refresh(f"Bearer {body['tokens']['refresh']['value']}", "192.0.2.9")
    assert refresh_calls == ["TransactGetItems", "UpdateItem"]
    again = signing.verify(refreshed["tokens"]["access"]["value"]).claims
    assert again["org"] == "JWT format unit tests" and "isConfirmed" not in again
    # ID and refresh tokens never take the format.
    assert "org" not in signing.verify(refreshed["tokens"]["id"]["value"]).claims
    assert "org" not in signing.verify(refreshed["tokens"]["refresh"]["value"]).claims

    assert customjwt.save_format(tenant, None)["isDefault"] is True
    tenant_state.forget()
    plain = password.log_in(request(), identifier="member@example.com", password=seed_password)
    restored = signing.verify(plain["tokens"]["access"]["value"]).claims
    assert "org" not in restored and restored["isConfirmed"] is not None
