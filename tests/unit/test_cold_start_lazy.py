"""What the core defers to first use to keep cold starts short (docs/performance.md
"Cold start"): argon2, cryptography's AES-GCM, the pydantic models (request bodies and
tenant settings, all `defer_build`) and the code of rarely used routes. Importing must
not load or build them; using them must work as before."""

from __future__ import annotations

import os
import textwrap

import pytest
from freshprocess import ROOT, run_json
from pydantic import ValidationError

from portcullis.credentials import passwords
from portcullis.tenancy import settings
from portcullis.users import fields as userfields
from portcullis.users import inputs as userinputs


def test_importing_the_core_loads_no_argon2_cryptography_or_body_validators() -> None:
    code = textwrap.dedent(
        """
        import json, sys
        from portcullis.users import fields as userfields, inputs as userinputs
        from portcullis.tokens import envelope
        from portcullis.tokens import signing as tokens
        from portcullis.credentials import passwords
        from portcullis.tenancy import domains, settings
        models = [m for module in (userfields, userinputs) for m in vars(module).values()
                  if isinstance(m, type) and issubclass(m, userfields.BaseModel)
                  and m is not userfields.BaseModel]
        print(json.dumps({
            "loaded": [m for m in ("argon2", "cryptography", "jwt", "publicsuffixlist")
                       if m in sys.modules],
            "built": [m.__name__ for m in models if m.__pydantic_complete__],
            "models": len(models),
        }))
        """
    )
    env = dict(os.environ, TABLE_NAME="portcullis-lazy", AWS_DEFAULT_REGION="us-east-1")
    result = run_json(code, env)
    assert result["loaded"] == []
    assert result["built"] == []
    assert result["models"] >= 10


def test_passwords_work_once_argon2_is_loaded() -> None:
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "correct horse battery")
    assert not passwords.verify(hashed, "wrong")
    assert not passwords.verify(None, "anything")
    assert not passwords.verify("not-a-hash", "anything")
    assert not passwords.needs_rehash(hashed)
    assert passwords.needs_rehash("not-a-hash")


def test_deferred_body_models_validate_as_strictly_as_before() -> None:
    assert userinputs.RoleList.model_validate({"roles": ["admin"]}).roles == ["admin"]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        userinputs.RoleList.model_validate({"roles": ["admin"], "extra": 1})
    with pytest.raises(ValidationError, match="Input should be a valid list"):
        userinputs.RoleList.model_validate({"roles": ("admin",)})  # strict: no coercion
    with pytest.raises(ValidationError, match="valid email"):
        userfields.UserWrite.model_validate({"email": "nope"})
    with pytest.raises(ValidationError, match="valid email"):
        userinputs.UserInvite.model_validate({"email": "nope", "options": {"type": "welcome"}})


def test_functions_load_route_specific_code_only_when_a_route_needs_it() -> None:
    """Passthrough migration and TOTP (auth), invitations (users, roles) and the sign-on
    flow with its OAuth / OIDC clients (sso: `sso.flow`, Authlib, joserfc, PyJWT, httpx)
    are imported by the routes that use them, not by the function's import; the tenant
    settings' models are built by the first request that reads settings
    (docs/performance.md "Cold start");
    the routes' API tests prove they still find them."""
    code = textwrap.dedent(
        """
        import importlib.util, json, sys
        for name in ("auth", "users", "roles", "sso"):
            spec = importlib.util.spec_from_file_location(name + "_app", f"functions/{name}/app.py")
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        deferred = ("portcullis.auth.passthrough", "portcullis.auth.passthroughconfig",
                    "portcullis.auth.totp", "portcullis.credentials.totp",
                    "portcullis.users.invitations", "authlib", "joserfc", "jwt", "httpx",
                    "portcullis.sso.flow")
        from portcullis.tenancy import settings
        models = (settings.TenantSettings, settings.RateLimits, settings.Authentication,
                  settings.Mfa, settings.LiveDomain, settings.JwtFormat)
        print(json.dumps({
            "loaded": [m for m in deferred if m in sys.modules],
            "built": [m.__name__ for m in models if m.__pydantic_complete__],
        }))
        """
    )
    env = dict(os.environ, TABLE_NAME="portcullis-lazy", AWS_DEFAULT_REGION="us-east-1")
    assert run_json(code, env) == {"loaded": [], "built": []}


def test_deferred_settings_models_validate_and_default_as_before() -> None:
    """`default_factory` instead of shared default instances: every read still gets the
    full defaults, and no two settings objects share a nested one."""
    first = settings.TenantSettings.model_validate({})
    second = settings.TenantSettings.model_validate({"mfa": {"policy": "all"}})
    assert first.rateLimits.signupPerIp.limit == 20
    assert [f.strategy for f in first.authentication.firstFactors] == [
        "password",
        "link",
        "verificationCode",
    ]
    assert first.mfa.policy == "optional" and second.mfa.policy == "all"
    assert first.rateLimits is not second.rateLimits
    assert settings.as_json(first)["rateLimits"]["refreshPerSession"] == {
        "limit": 60,
        "windowSeconds": 60,
    }
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        settings.TenantSettings.model_validate({"mfa": {"policy": "all", "extra": 1}})
    with pytest.raises(ValidationError, match="valid integer"):
        settings.TenantSettings.model_validate({"accessTokenDuration": "600"})  # strict


def test_the_import_worker_loads_neither_the_rest_resolver_nor_invitations() -> None:
    """The import worker is an SQS target: the REST resolver (which `access.apicaller`
    holds apart from `access.callers`) is never its business, and invitations (mail,
    links) only serve imports that send welcome emails, which import them in
    `imports.apply`; tests/api/test_imports.py sends them."""
    code = textwrap.dedent(
        """
        import importlib.util, json, sys
        spec = importlib.util.spec_from_file_location("app", "functions/importworker/app.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        deferred = ("aws_lambda_powertools.event_handler", "portcullis.platform.http",
                    "portcullis.access.apicaller", "portcullis.users.invitations",
                    "portcullis.messaging.mail")
        print(json.dumps({"loaded": [m for m in deferred if m in sys.modules],
                          "worker": "portcullis.imports.worker" in sys.modules}))
        """
    )
    env = dict(os.environ, TABLE_NAME="portcullis-lazy", AWS_DEFAULT_REGION="us-east-1")
    assert run_json(code, env) == {"loaded": [], "worker": True}


def test_saml_loads_its_xml_stack_only_for_the_sp_facing_requests() -> None:
    """lxml, xmlsec and python3-saml serve the SSO/SLO requests, the IdP metadata and
    SPs registered from metadata (imported there: `saml.flows`, `saml.idp`, `saml.sps`);
    the admin routes and the token hand-off load none of them. tests/api/test_saml.py
    runs every one of those routes."""
    code = textwrap.dedent(
        """
        import importlib.util, json, sys
        spec = importlib.util.spec_from_file_location("app", "functions/saml/app.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        deferred = ("lxml", "xmlsec", "onelogin", "portcullis.saml.protocol",
                    "portcullis.saml.xmlsafe")
        print(json.dumps({"loaded": [m for m in deferred if m in sys.modules],
                          "flows": "portcullis.saml.flows" in sys.modules}))
        """
    )
    env = dict(os.environ, TABLE_NAME="portcullis-lazy", AWS_DEFAULT_REGION="us-east-1")
    assert run_json(code, env) == {"loaded": [], "flows": True}


def test_self_loads_the_account_routes_code_only_when_they_run() -> None:
    """`self`'s common cold starts are refresh and log-out: `auth.selfservice` (with the
    users service and writable fields) is imported by the account and session routes,
    which tests/api/test_self.py runs; the refresh's own code stays at import."""
    code = textwrap.dedent(
        """
        import importlib.util, json, sys
        spec = importlib.util.spec_from_file_location("app", "functions/self/app.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        deferred = ("portcullis.auth.selfservice", "portcullis.users.fields",
                    "portcullis.users.service")
        print(json.dumps({"loaded": [m for m in deferred if m in sys.modules],
                          "rotation": "portcullis.sessions.rotation" in sys.modules}))
        """
    )
    env = dict(os.environ, TABLE_NAME="portcullis-lazy", AWS_DEFAULT_REGION="us-east-1")
    assert run_json(code, env) == {"loaded": [], "rotation": True}


@pytest.mark.parametrize(
    ("function", "deferred"),
    [
        ("sessions", ("portcullis.tokens.claims", "portcullis.tokens.signing")),
        ("keys", ("portcullis.webhooks.bearer", "portcullis.tokens.envelope")),
        ("auth", ("portcullis.users.inputs", "portcullis.auth.code")),
    ],
)
def test_functions_skip_what_only_other_functions_or_rare_routes_use(
    function: str, deferred: tuple[str, ...]
) -> None:
    """Token signing (`sessions.lifecycle.sign`) is imported where a session's tokens are
    signed, not by the sessions' admin API; a webhook key's sealing only when one is
    created (tests/api/test_keys_api.py creates them); the server API's user bodies
    (`users/inputs.py`) never by auth, whose sign-up needs only the writable fields; the
    verification-code flow by auth's two code routes and a phone verification only
    (tests/api/test_auth_code.py, test_auth_verify.py)."""
    code = textwrap.dedent(
        f"""
        import importlib.util, json, sys
        spec = importlib.util.spec_from_file_location("app", "functions/{function}/app.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        print(json.dumps([m for m in {deferred!r} if m in sys.modules]))
        """
    )
    env = dict(os.environ, TABLE_NAME="portcullis-lazy", AWS_DEFAULT_REGION="us-east-1")
    assert run_json(code, env) == []


HTTP_FUNCTIONS = sorted(
    path.parent.name
    for path in (ROOT / "functions").glob("*/app.py")
    if "create_app(" in path.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_no_function_imports_or_builds_an_answer_model(function: str) -> None:
    """The answer models (`<package>/outputs.py`, `users.userobject`, `sessions.tokenset`)
    are documentation: routes name them by reference (`http.answers`), so neither a
    function's import nor a route's first request (one served here through the Lambda
    handler; for every route, the dependant and body field Powertools builds then) loads
    them, and no route carries a `"model"` for Powertools to build a TypeAdapter of.
    The store is a closed port: a request that reaches it answers 500, which is fine
    here. tests/unit/test_openapi_document.py checks that every reference resolves."""
    code = textwrap.dedent(
        f"""
        import importlib.util, json, sys, uuid
        sys.path.insert(0, "functions/{function}")
        spec = importlib.util.spec_from_file_location("app", "functions/{function}/app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        routes = module.app._static_routes + module.app._dynamic_routes
        first = routes[0]
        path = "/".join("t1" if p.startswith("<") else p for p in first.path.split("/"))
        event = {{
            "httpMethod": first.method, "path": path, "resource": first.path,
            "headers": {{}}, "multiValueHeaders": {{}}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": None,
            "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": {{"stage": "test", "path": path, "requestId": "r1",
                                "httpMethod": first.method, "resourcePath": first.path,
                                "identity": {{"sourceIp": "198.51.100.7"}}}},
        }}

        class Context:
            function_name = "lazy"
            memory_limit_in_mb = 1024
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:lazy"
            aws_request_id = str(uuid.uuid4())

        status = module.lambda_handler(event, Context())["statusCode"]
        for route in routes:
            route.dependant, route.body_field
        answers = ("portcullis.users.userobject", "portcullis.sessions.tokenset")
        print(json.dumps({{
            "loaded": sorted(m for m in sys.modules if m.startswith("portcullis.")
                             and (m.endswith(".outputs") or m in answers)),
            "models": [r.path for r in routes for answer in (r.responses or {{}}).values()
                       for payload in answer.get("content", {{}}).values()
                       if "model" in payload],
            "served": isinstance(status, int),
        }}))
        """
    )
    env = dict(
        os.environ,
        TABLE_NAME="portcullis-lazy",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_MAX_ATTEMPTS="1",
        POWERTOOLS_LOG_LEVEL="CRITICAL",
    )
    assert run_json(code, env) == {"loaded": [], "models": [], "served": True}
