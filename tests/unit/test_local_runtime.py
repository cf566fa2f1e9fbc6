"""The local runtime (`infra.local`): routing, event shape, AWS emulation and persistence.

Pure pieces are tested directly; the rest over real HTTP against a runtime started from a
fixture template (`fixtures/local_runtime/`), whose functions echo the event or exercise
one AWS service, so nothing here depends on the service's own code.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import stat
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from infra.local.apigateway import (
    HttpRequest,
    InvalidProxyResult,
    build_proxy_event,
    proxy_result_to_response,
)
from infra.local.cfn import NO_VALUE, Intrinsics, Unresolvable, load_yaml
from infra.local.drain import OutboxDrainer
from infra.local.eventbus import LocalRule, RuleRouter, parse_put_events
from infra.local.messages import from_ses_v1, from_ses_v2, from_sns_publish
from infra.local.persistence import KMS_FILE, LOCAL_FILE, TABLE_FILE, WORKSPACE_FILE
from infra.local.process import RuntimeProcess
from infra.local.routing import RouteMatch, RouteMiss, Router
from infra.local.runtime import LocalRuntime
from infra.local.template import ApiRoute, SamTemplate

FIXTURES = Path(__file__).parent / "fixtures" / "local_runtime"
TEMPLATE = FIXTURES / "template.yaml"


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `predicate` is truthy; asynchronous deliveries have no completion signal."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


# -- CloudFormation ---------------------------------------------------------------------


def test_yaml_tags_become_long_form_intrinsics(tmp_path: Path) -> None:
    source = tmp_path / "t.yaml"
    source.write_text(
        "A: !Ref Thing\nB: !GetAtt Res.Arn\nC: !Sub 'x-${Y}'\nD: !If [Cond, 1, 2]\n"
        "E: !Join ['-', [!Ref P, b]]\nF: !Condition IsProd\n"
    )
    assert load_yaml(source) == {
        "A": {"Ref": "Thing"},
        "B": {"Fn::GetAtt": ["Res", "Arn"]},
        "C": {"Fn::Sub": "x-${Y}"},
        "D": {"Fn::If": ["Cond", 1, 2]},
        "E": {"Fn::Join": ["-", [{"Ref": "P"}, "b"]]},
        "F": {"Condition": "IsProd"},
    }


def test_intrinsics_resolve_against_local_values() -> None:
    intrinsics = Intrinsics(
        parameters={"Stage": "dev"},
        pseudo={"AWS::Region": "eu-west-1", "AWS::StackName": "stack"},
        refs={"Table": "portcullis"},
        attributes={("Key", "Arn"): "arn:key"},
        conditions={"IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]}},
        mappings={"Sizes": {"dev": {"memory": 128}}},
    )
    assert intrinsics.resolve({"Ref": "Table"}) == "portcullis"
    assert intrinsics.resolve({"Fn::GetAtt": ["Key", "Arn"]}) == "arn:key"
    assert intrinsics.resolve({"Fn::Sub": "${AWS::StackName}-${Stage}-${Key.Arn}-${!Raw}"}) == (
        "stack-dev-arn:key-${Raw}"
    )
    assert intrinsics.resolve({"Fn::Sub": ["${A}/${Table}", {"A": {"Ref": "Stage"}}]}) == (
        "dev/portcullis"
    )
    assert intrinsics.resolve({"Fn::If": ["IsDev", "yes", "no"]}) == "yes"
    assert intrinsics.resolve({"Fn::Not": [{"Condition": "IsDev"}]}) is False
    assert intrinsics.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert intrinsics.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "memory"]}) == 128
    assert intrinsics.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE
    assert intrinsics.resolve({"a": {"Ref": "AWS::NoValue"}, "b": 1}) == {"b": 1}
    assert intrinsics.resolve_string(True) == "true"
    with pytest.raises(Unresolvable):
        intrinsics.resolve({"Fn::GetAtt": ["Missing", "Arn"]})
    with pytest.raises(Unresolvable):
        intrinsics.resolve({"Fn::ImportValue": "x"})


def test_template_yields_routes_triggers_and_cors() -> None:
    template = SamTemplate.load(TEMPLATE)
    routes = {(r.method, r.path, r.function_id) for r in template.routes}
    assert ("GET", "/v0/tenants/{tenantId}/keys/jwt", "EchoFunction") in routes
    # Method case and trailing slashes are normalised the way API Gateway treats them.
    assert ("POST", "/v0/tenants/{tenantId}/keys/{type}", "EchoFunction") in routes
    assert ("ANY", "/v0/files/{proxy+}", "EchoFunction") in routes
    assert ("ANY", "/v0/methods", "OtherFunction") in routes
    # DevOnlyFunction has `Condition: IsDev`, false with the default Stage.
    assert "DevOnlyFunction" not in template.functions
    assert "DevOnlyFunction" in SamTemplate.load(TEMPLATE, {"Stage": "dev"}).functions
    echo = template.functions["EchoFunction"]
    assert echo.code_dir == FIXTURES / "echo"
    assert (echo.handler, echo.timeout, echo.memory) == ("app.lambda_handler", 10, 256)
    assert echo.environment["ECHO_ONLY"] == "yes"
    assert echo.environment["TABLE_NAME"] == {"Ref": "Table"}
    assert [t.function_id for t in template.rule_triggers] == ["WebhookFunction"]
    assert [(t.function_id, t.batch_size) for t in template.queue_triggers] == [
        ("WorkerFunction", 5)
    ]
    assert template.cors is not None
    assert (template.cors.allow_origin, template.cors.max_age) == ("*", "600")


# -- routing ----------------------------------------------------------------------------


@pytest.fixture
def router() -> Router:
    return Router(
        [
            ApiRoute("GET", "/v0/tenants/{tenantId}/keys/jwt", "jwt"),
            ApiRoute("GET", "/v0/tenants/{tenantId}/keys/{type}", "by-type"),
            ApiRoute("POST", "/v0/tenants/{tenantId}/keys/{type}", "by-type-post"),
            ApiRoute("GET", "/v0/methods", "exact"),
            ApiRoute("ANY", "/v0/methods", "any"),
            ApiRoute("ANY", "/v0/files/{proxy+}", "files"),
            ApiRoute("GET", "/v0/files/{name}/meta", "meta"),
            ApiRoute("GET", "/", "root"),
        ]
    )


def _matched(router: Router, method: str, path: str) -> RouteMatch:
    match = router.match(method, path)
    assert isinstance(match, RouteMatch), match
    return match


def test_static_segment_beats_parameter(router: Router) -> None:
    assert _matched(router, "GET", "/v0/tenants/t1/keys/jwt").route.function_id == "jwt"
    match = _matched(router, "GET", "/v0/tenants/t1/keys/live")
    assert (match.route.function_id, match.path_parameters) == (
        "by-type",
        {"tenantId": "t1", "type": "live"},
    )


def test_exact_method_beats_any(router: Router) -> None:
    assert _matched(router, "GET", "/v0/methods").route.function_id == "exact"
    assert _matched(router, "DELETE", "/v0/methods").route.function_id == "any"
    assert _matched(router, "post", "/v0/methods").route.function_id == "any"


def test_trailing_slash_is_ignored(router: Router) -> None:
    assert _matched(router, "GET", "/v0/tenants/t1/keys/jwt/").route.function_id == "jwt"
    assert _matched(router, "GET", "/").route.function_id == "root"


def test_greedy_proxy_takes_the_rest_and_loses_to_specific_resources(router: Router) -> None:
    match = _matched(router, "PUT", "/v0/files/a/b%20c/d")
    assert (match.route.function_id, match.path_parameters) == ("files", {"proxy": "a/b c/d"})
    assert _matched(router, "GET", "/v0/files/x/meta").route.function_id == "meta"
    assert router.match("GET", "/v0/files") == RouteMiss(404, None, ())


def test_path_parameters_are_decoded(router: Router) -> None:
    match = _matched(router, "GET", "/v0/tenants/a%40b%2Fc/keys/x%2By")
    assert match.path_parameters == {"tenantId": "a@b/c", "type": "x+y"}


def test_unknown_path_is_404_and_wrong_method_405(router: Router) -> None:
    assert router.match("GET", "/v0/nothing") == RouteMiss(404, None, ())
    miss = router.match("DELETE", "/v0/tenants/t/keys/jwt")
    assert miss == RouteMiss(405, "/v0/tenants/{tenantId}/keys/jwt", ("GET",))


# -- API Gateway event and result -------------------------------------------------------


def _request(**overrides: Any) -> HttpRequest:
    values: dict[str, Any] = {
        "method": "POST",
        "target": "/v0/tenants/t%201/keys/jwt?a=1&a=2&plus=a+b&enc=%2B&blank",
        "headers": [
            ("Content-Type", "application/json"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Connection", "keep-alive"),
            ("X-Forwarded-For", "10.0.0.1"),
        ],
        "body": b'{"k": "v"}',
        "client_ip": "127.0.0.9",
        "server_port": 3000,
    }
    values.update(overrides)
    return HttpRequest(**values)


def _match() -> RouteMatch:
    route = ApiRoute("POST", "/v0/tenants/{tenantId}/keys/jwt", "f")
    return RouteMatch(route=route, path_parameters={"tenantId": "t 1"})


def test_proxy_event_has_the_rest_api_v1_shape() -> None:
    event = build_proxy_event(_request(), _match(), request_id="req-1", now=1_700_000_000.5)
    assert event["resource"] == "/v0/tenants/{tenantId}/keys/jwt"
    assert event["path"] == "/v0/tenants/t%201/keys/jwt"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["X-Multi"] == "two"
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert "Connection" not in event["headers"]
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.1, 127.0.0.9"
    assert event["headers"]["X-Forwarded-Port"] == "3000"
    assert event["queryStringParameters"] == {"a": "2", "plus": "a b", "enc": "+", "blank": ""}
    assert event["multiValueQueryStringParameters"]["a"] == ["1", "2"]
    assert event["pathParameters"] == {"tenantId": "t 1"}
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["resourcePath"] == "/v0/tenants/{tenantId}/keys/jwt"
    assert (context["stage"], context["requestId"], context["path"]) == (
        "local",
        "req-1",
        "/v0/tenants/t%201/keys/jwt",
    )
    assert context["requestTimeEpoch"] == 1_700_000_000_500
    assert context["identity"]["sourceIp"] == "127.0.0.9"
    assert (event["body"], event["isBase64Encoded"]) == ('{"k": "v"}', False)


def test_proxy_event_nulls_and_binary_body() -> None:
    route = ApiRoute("GET", "/v0/methods", "f")
    request = _request(target="/v0/methods", headers=[], body=b"\xff\x00raw")
    event = build_proxy_event(request, RouteMatch(route, {}))
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00raw"
    empty = build_proxy_event(_request(body=b""), _match())
    assert (empty["body"], empty["isBase64Encoded"]) == (None, False)


def test_proxy_result_merges_headers_like_api_gateway() -> None:
    response = proxy_result_to_response(
        {
            "statusCode": 201,
            "headers": {"X-One": 1, "Set-Cookie": "dropped=1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.status == 201
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.header("X-One") == "1"
    assert response.header("Content-Type") == "application/json"
    assert response.body == b"\x00\x01"
    for invalid in ({"body": "x"}, {"statusCode": "abc"}, {"statusCode": 200, "body": {}}, None):
        with pytest.raises(InvalidProxyResult):
            proxy_result_to_response(invalid)


# -- messages and events ----------------------------------------------------------------


def test_ses_and_sns_requests_become_normalised_messages() -> None:
    v1 = from_ses_v1(
        {
            "Action": ["SendEmail"],
            "Source": ["from@x.test"],
            "Destination.ToAddresses.member.1": ["a@x.test"],
            "Destination.ToAddresses.member.2": ["b@x.test"],
            "Message.Subject.Data": ["Subject"],
            "Message.Body.Text.Data": ["text"],
            "Message.Body.Html.Data": ["<b>html</b>"],
        },
        "m-1",
    )
    assert v1 is not None
    assert v1.to_json() | {"sentAt": None} == {
        "channel": "email",
        "to": "a@x.test, b@x.test",
        "from": "from@x.test",
        "subject": "Subject",
        "text": "text",
        "html": "<b>html</b>",
        "sentAt": None,
        "messageId": "m-1",
    }
    mime = (
        b"From: s@x.test\r\nTo: r@x.test\r\nSubject: Raw\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nplain body\r\n"
        b"--B\r\nContent-Type: text/html\r\n\r\n<p>html body</p>\r\n--B--\r\n"
    )
    raw = from_ses_v2({"Content": {"Raw": {"Data": base64.b64encode(mime).decode()}}}, "m-2")
    assert raw is not None
    assert (raw.to, raw.sender, raw.subject) == ("r@x.test", "s@x.test", "Raw")
    assert raw.text is not None and raw.text.strip() == "plain body"
    assert raw.html is not None and raw.html.strip() == "<p>html body</p>"
    sms = from_sns_publish({"PhoneNumber": ["+15550000000"], "Message": ["123456"]}, "m-3")
    assert sms is not None and (sms.channel, sms.to, sms.text) == ("sms", "+15550000000", "123456")


def test_put_events_keeps_accepted_entries_and_rules_match_patterns() -> None:
    events = parse_put_events(
        {
            "Entries": [
                {"Source": "portcullis", "DetailType": "user.created", "Detail": '{"id": 1}'},
                {"Source": "portcullis", "DetailType": "bad", "Detail": "{}"},
                {
                    "Source": "other",
                    "DetailType": "user.updated",
                    "Detail": "{}",
                    "EventBusName": "arn:aws:events:us-east-1:1:event-bus/bus",
                    "Time": 0,
                },
            ]
        },
        {"Entries": [{"EventId": "e1"}, {"ErrorCode": "X"}, {"EventId": "e3"}]},
    )
    assert [(e.id, e.bus, e.detail) for e in events] == [
        ("e1", "default", {"id": 1}),
        ("e3", "bus", {}),
    ]
    assert events[1].time == "1970-01-01T00:00:00Z"
    delivered: list[tuple[str, Any]] = []
    rules = [
        LocalRule.create("r1", "default", {"detail-type": [{"prefix": "user."}]}, "hooks"),
        LocalRule.create("r2", "bus", {"source": ["portcullis"]}, "never"),
    ]
    RuleRouter(rules, lambda fn, event, _: delivered.append((fn, event)), "us-east-1").route(events)
    assert [(fn, event["detail-type"]) for fn, event in delivered] == [("hooks", "user.created")]
    assert delivered[0][1]["id"] == "e1" and delivered[0][1]["source"] == "portcullis"


def test_drainer_tolerates_missing_and_failing_publishers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    OutboxDrainer(module="no_such_package.outbox")()
    monkeypatch.syspath_prepend(str(FIXTURES))
    import fake_outbox  # type: ignore[import-not-found]

    fake_outbox.calls.clear()
    drainer = OutboxDrainer(module="fake_outbox")
    drainer()
    drainer()
    assert len(fake_outbox.calls) == 2

    def explode() -> int:
        raise RuntimeError("publisher down")

    monkeypatch.setattr(fake_outbox, "drain_pending", explode)
    OutboxDrainer(module="fake_outbox")()
    assert "publisher down" in capsys.readouterr().err


# -- over HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="class")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    """One runtime per test class: starting one per test would cost ~1 s each."""
    data_dir = tmp_path_factory.mktemp("local-runtime")
    with LocalRuntime(TEMPLATE, data_dir, bootstrap=False, echo=False, access_log=False) as rt:
        yield rt


@pytest.fixture(scope="class")
def http(runtime: LocalRuntime) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=runtime.base_url, timeout=30) as client:
        yield client


class TestOverHttp:
    @staticmethod
    def table_item(pk: str) -> dict[str, Any] | None:
        key = {"pk": {"S": pk}, "sk": {"S": "event"}}
        return (
            boto3.client("dynamodb")
            .get_item(TableName=os.environ["TABLE_NAME"], Key=key)
            .get("Item")
        )

    def test_event_reaches_the_function_in_api_gateway_shape(self, http: httpx.Client) -> None:
        response = http.get(
            "/v0/tenants/abc%40x/keys/jwt/?q=1&q=2",
            headers=[("X-Multi", "a"), ("X-Multi", "b"), ("User-Agent", "ua/1")],
        )
        assert response.status_code == 200
        body = response.json()
        event = body["event"]
        assert body["function"] == "EchoFunction"
        assert 0 < body["remainingMs"] <= 10_000
        assert event["resource"] == "/v0/tenants/{tenantId}/keys/jwt"
        assert event["path"] == "/v0/tenants/abc%40x/keys/jwt/"
        assert event["pathParameters"] == {"tenantId": "abc@x"}
        assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
        assert event["headers"]["X-Multi"] == "b"
        assert event["multiValueHeaders"]["X-Multi"] == ["a", "b"]
        assert event["requestContext"]["identity"] == event["requestContext"]["identity"] | {
            "sourceIp": "127.0.0.1",
            "userAgent": "ua/1",
        }
        assert response.headers["x-amzn-RequestId"] == event["requestContext"]["requestId"]

    def test_stage_variables_come_from_the_api_with_the_local_base_url(
        self, http: httpx.Client, runtime: LocalRuntime
    ) -> None:
        event = http.get("/v0/methods").json()["event"]
        assert event["stageVariables"] == {"PUBLIC_BASE_URL": runtime.base_url, "LABEL": "prod"}

    def test_environment_is_resolved_to_local_resources(
        self, http: httpx.Client, runtime: LocalRuntime
    ) -> None:
        env = http.get("/v0/methods").json()["env"]
        key_id = env["KMS_KEY_ID"]
        assert boto3.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
        assert env["KMS_KEY_ARN"].endswith(f":key/{key_id}")
        assert env["TABLE_NAME"] == "portcullis"
        assert env["EVENT_BUS_NAME"] == "portcullis-events"
        assert env["SENDER_EMAIL"] == "no-reply@portcullis.test"
        assert env["REGION_LABEL"] == f"{runtime.region}-prod"
        assert env["QUEUE_URL"].endswith("/portcullis-Queue")
        assert env["WEBHOOK_FUNCTION"] == "WebhookFunction"
        assert (env["MODE_LABEL"], env["UNRESOLVABLE"], env["ECHO_ONLY"]) == (
            "production",
            "",
            "yes",
        )
        assert (env["PUBLIC_BASE_URL"], env["STAGE"]) == (runtime.base_url, "local")
        assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")

    def test_route_precedence(self, http: httpx.Client) -> None:
        resource = http.get("/v0/tenants/t/keys/live").json()["event"]["resource"]
        assert resource == "/v0/tenants/{tenantId}/keys/{type}"
        assert http.get("/v0/methods").json()["function"] == "EchoFunction"
        assert http.patch("/v0/methods").json() == {"function": "OtherFunction", "method": "PATCH"}
        files = http.delete("/v0/files/a/b%20c").json()["event"]
        assert (files["resource"], files["pathParameters"]) == (
            "/v0/files/{proxy+}",
            {"proxy": "a/b c"},
        )

    def test_gateway_errors_use_the_envelope_and_cors(self, http: httpx.Client) -> None:
        missing = http.get("/v0/nope", headers={"Origin": "https://app.test"})
        assert missing.status_code == 404
        assert missing.json() == {
            "statusCode": 404,
            "message": "Not Found",
            "error": {"type": "bad_request_error"},
        }
        assert missing.headers["Access-Control-Allow-Origin"] == "https://app.test"
        assert http.get("/v0/nope").headers["Access-Control-Allow-Origin"] == "*"
        wrong = http.delete("/v0/tenants/t/keys/jwt")
        assert (wrong.status_code, wrong.json()["message"]) == (405, "Method Not Allowed")

    def test_preflight_is_answered_from_the_template_cors(self, http: httpx.Client) -> None:
        response = http.options("/v0/tenants/t/keys/jwt", headers={"Origin": "https://app.test"})
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
        assert response.headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization"
        assert response.headers["Access-Control-Max-Age"] == "600"

    def test_function_failures(self, http: httpx.Client, capfd: pytest.CaptureFixture[str]) -> None:
        raised = http.post("/v0/actions/raise")
        assert raised.status_code == 500
        assert raised.json() == {
            "statusCode": 500,
            "message": "An internal server error occurred",
            "error": {"type": "bad_request_error"},
        }
        assert "fixture failure" in capfd.readouterr().err
        assert http.post("/v0/actions/invalid").status_code == 502
        broken = http.get("/v0/broken")
        assert broken.status_code == 500
        assert "BrokenFunction failed to load" in capfd.readouterr().err
        assert gc.isenabled()  # the runtime resumed the collector the broken import paused
        assert http.get("/v0/methods").status_code == 200

    def test_bodies_in_both_directions(self, http: httpx.Client) -> None:
        echoed = http.post("/v0/tenants/t/keys/x", content=b"\xff\xfe\x00").json()["event"]
        assert echoed["isBase64Encoded"] is True
        assert base64.b64decode(echoed["body"]) == b"\xff\xfe\x00"
        text = http.post("/v0/tenants/t/keys/x", json={"name": "é"}).json()["event"]
        assert (json.loads(text["body"]), text["isBase64Encoded"]) == ({"name": "é"}, False)
        binary = http.post("/v0/actions/binary")
        assert binary.content == b"\x00\xffbinary"
        assert binary.headers["Content-Type"] == "application/octet-stream"
        cookies = http.post("/v0/actions/cookies")
        assert cookies.headers.get_list("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
        assert cookies.headers["X-Single"] == "one"

    def test_payload_over_6_mb_is_refused(self, runtime: LocalRuntime) -> None:
        with httpx.Client(base_url=runtime.base_url, timeout=30) as client:
            response = client.post("/v0/tenants/t/keys/x", content=b"x" * (6 * 1024 * 1024 + 1))
        assert response.status_code == 413
        assert response.json()["statusCode"] == 413

    def test_emails_and_sms_land_in_the_outbox(self, http: httpx.Client) -> None:
        assert http.delete("/_local/outbox").status_code == 204
        sent = http.post(
            "/v0/actions/send",
            json={
                "to": "alice@example.com",
                "from": "Tenant <hello@tenant-domain.test>",
                "subject": "Welcome",
                "text": "Your code is 123456",
                "html": "<p>Your code is <b>123456</b></p>",
                "phone": "+15555550100",
                "sms": "Code 654321",
            },
        )
        assert sent.status_code == 200, sent.text
        outbox = http.get("/_local/outbox").json()
        assert [(m["channel"], m["to"], m["subject"]) for m in outbox] == [
            ("email", "alice@example.com", "Welcome"),
            ("email", "alice@example.com", "v1 Welcome"),
            ("sms", "+15555550100", None),
        ]
        first = outbox[0]
        assert first["from"] == "Tenant <hello@tenant-domain.test>"
        assert (first["text"], first["html"]) == (
            "Your code is 123456",
            "<p>Your code is <b>123456</b></p>",
        )
        assert first["messageId"] and first["sentAt"].endswith("Z")
        assert outbox[2]["text"] == "Code 654321"
        assert len(http.get("/_local/outbox", params={"channel": "sms"}).json()) == 1
        assert http.get("/_local/outbox", params={"to": "nobody@x.test"}).json() == []
        http.delete("/_local/outbox")
        assert http.get("/_local/outbox").json() == []

    def test_bus_events_are_listed_and_delivered_to_rule_targets(self, http: httpx.Client) -> None:
        http.delete("/_local/events")
        created = http.post(
            "/v0/actions/put-event", json={"detailType": "user.created", "detail": {"userId": 7}}
        ).json()
        http.post("/v0/actions/put-event", json={"detailType": "tenant.updated", "detail": {}})
        events = http.get("/_local/events").json()
        assert next((e["id"], e["source"], e["detailType"], e["detail"]) for e in events) == (
            created["eventId"],
            "portcullis",
            "user.created",
            {"userId": 7},
        )
        assert [e["detailType"] for e in events] == ["user.created", "tenant.updated"]
        item = wait_for(lambda: self.table_item(f"webhook#{created['eventId']}"))
        delivered = json.loads(item["event"]["S"])
        assert (delivered["detail-type"], delivered["detail"]) == ("user.created", {"userId": 7})
        assert delivered["source"] == "portcullis"
        other = events[1]["id"]
        time.sleep(0.3)
        assert self.table_item(f"webhook#{other}") is None
        assert http.delete("/_local/events").status_code == 204
        assert http.get("/_local/events").json() == []

    def test_sqs_event_source_invokes_the_worker(self, http: httpx.Client) -> None:
        assert http.post("/v0/actions/enqueue", json={"job": "import-1"}).status_code == 202
        client = boto3.client("dynamodb")

        def job_items() -> list[dict[str, Any]]:
            items = client.scan(TableName=os.environ["TABLE_NAME"])["Items"]
            return [i for i in items if i["pk"]["S"].startswith("job#")]

        jobs = wait_for(job_items)
        assert json.loads(jobs[0]["body"]["S"]) == {"job": "import-1"}
        assert jobs[0]["source"]["S"].endswith(":portcullis-Queue")

    def test_lambda_invoke_runs_the_template_function(self, http: httpx.Client) -> None:
        response = http.post("/v0/actions/invoke", json={"id": "direct-call"})
        assert response.status_code == 200, response.text
        assert response.json() == {"result": {"received": "direct-call"}}

    def test_concurrent_transactions_are_atomic(self, runtime: LocalRuntime) -> None:
        """Two sign-ups with one email must not both win (moto alone lets them)."""
        results: list[int] = []
        barrier = threading.Barrier(16)

        def attempt(owner: int) -> None:
            with httpx.Client(base_url=runtime.base_url, timeout=30) as client:
                barrier.wait()
                response = client.post(
                    "/v0/actions/guarded-put", json={"key": "same@example.com", "owner": owner}
                )
                results.append(response.status_code)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [201] + [409] * 15


# -- lifecycle and persistence ----------------------------------------------------------


def test_state_and_kms_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    item = {
        "pk": {"S": "tenant#1"},
        "sk": {"S": "profile"},
        "blob": {"B": b"\x00\x01\xff"},
        "tags": {"SS": ["a", "b"]},
        "nested": {"M": {"n": {"N": "3"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
    }
    expired = {"pk": {"S": "outbox#1"}, "sk": {"S": "x"}, "ttl": {"N": str(int(time.time()) - 10)}}
    with LocalRuntime(TEMPLATE, data_dir, bootstrap=False, echo=False, access_log=False):
        table = os.environ["TABLE_NAME"]
        key_id = os.environ["KMS_KEY_ID"]
        boto3.client("dynamodb").put_item(TableName=table, Item=item)
        boto3.client("dynamodb").put_item(TableName=table, Item=expired)
        kms = boto3.client("kms")
        by_id = kms.encrypt(KeyId=key_id, Plaintext=b"private key bytes")["CiphertextBlob"]
        by_alias = kms.encrypt(KeyId="alias/portcullis-local", Plaintext=b"x")["CiphertextBlob"]
        data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert (data_dir / TABLE_FILE).is_file()
    assert stat.S_IMODE((data_dir / KMS_FILE).stat().st_mode) == 0o600

    with LocalRuntime(TEMPLATE, data_dir, bootstrap=False, echo=False, access_log=False):
        assert os.environ["KMS_KEY_ID"] == key_id
        client = boto3.client("dynamodb")
        restored = client.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
        assert restored["Item"] == item
        gone = client.get_item(TableName=table, Key={"pk": expired["pk"], "sk": expired["sk"]})
        assert "Item" not in gone
        kms = boto3.client("kms")
        assert kms.decrypt(CiphertextBlob=by_id)["Plaintext"] == b"private key bytes"
        assert kms.decrypt(CiphertextBlob=by_alias)["Plaintext"] == b"x"
        unwrapped = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"]
        assert unwrapped == data_key["Plaintext"]


def test_stop_restores_the_process_environment(tmp_path: Path) -> None:
    before = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "TABLE_", "STAGE"))}
    with LocalRuntime(TEMPLATE, tmp_path, bootstrap=False, echo=False, access_log=False):
        assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    after = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "TABLE_", "STAGE"))}
    assert after == before


@pytest.fixture
def fake_workspace_module(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stands in for `portcullis.tenants.workspace`; writes its tenant so persistence matters."""
    calls: list[str] = []

    def create_workspace(name: str) -> Any:
        calls.append(name)
        tenant_id = f"tenant{len(calls)}"
        boto3.client("dynamodb").put_item(
            TableName=os.environ["TABLE_NAME"],
            Item={"pk": {"S": f"tenant#{tenant_id}"}, "sk": {"S": "tenant"}},
        )
        keys = {
            mode: {
                kind: f"uf_{mode}_{kind}_{tenant_id}" for kind in ("admin", "readonly", "webhook")
            }
            for mode in ("test", "live")
        }
        return types.SimpleNamespace(
            tenant_id=tenant_id, keys=keys, seed_password=f"seed-{tenant_id}"
        )

    def replace_password(tenant_id: str) -> tuple[str, list[str]]:
        calls.append(f"replace {tenant_id}")
        return f"replaced-{tenant_id}", ["admin"]

    module = types.ModuleType("portcullis.tenants.workspace")
    module.create_workspace = create_workspace  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "portcullis.tenants.workspace", module)
    seeds = types.ModuleType("portcullis.tenants.seedusers")
    seeds.replace_password = replace_password  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "portcullis.tenants.seedusers", seeds)
    return calls


def test_first_start_bootstraps_a_workspace_and_later_starts_reuse_it(
    tmp_path: Path, fake_workspace_module: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalRuntime(TEMPLATE, tmp_path, echo=True, access_log=False) as runtime:
        assert runtime.workspace is not None
        assert runtime.workspace.tenant_id == "tenant1"
        base_url = runtime.base_url
    banner = capsys.readouterr().out
    assert base_url in banner and "tenant1" in banner and "uf_live_webhook_tenant1" in banner
    assert "seed-tenant1" in banner
    assert fake_workspace_module == ["Local workspace"]
    workspace_file = tmp_path / WORKSPACE_FILE
    assert stat.S_IMODE(workspace_file.stat().st_mode) == 0o600
    saved = json.loads(workspace_file.read_text())
    assert saved["keys"]["test"]["admin"] == "uf_test_admin_tenant1"
    assert saved["seedPassword"] == "seed-tenant1"
    assert json.loads((tmp_path / LOCAL_FILE).read_text()) == {
        "baseUrl": base_url,
        "tenantId": "tenant1",
        "testAdminKey": "uf_test_admin_tenant1",
        "liveAdminKey": "uf_live_admin_tenant1",
    }

    with LocalRuntime(TEMPLATE, tmp_path, echo=False, access_log=False) as runtime:
        assert runtime.workspace is not None and runtime.workspace.tenant_id == "tenant1"
        tenant = boto3.client("dynamodb").get_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"pk": {"S": "tenant#tenant1"}, "sk": {"S": "tenant"}},
        )
        assert "Item" in tenant
    assert fake_workspace_module == ["Local workspace"]


def test_a_workspace_saved_with_the_old_fixed_seed_password_gets_a_new_one(
    tmp_path: Path, fake_workspace_module: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Data saved before seed passwords were random: the seed users still have the old
    fixed password, so the next start replaces it (and says so once)."""
    with LocalRuntime(TEMPLATE, tmp_path, echo=False, access_log=False):
        pass
    workspace_file = tmp_path / WORKSPACE_FILE
    old = json.loads(workspace_file.read_text())
    del old["seedPassword"]
    workspace_file.write_text(json.dumps(old))
    with LocalRuntime(TEMPLATE, tmp_path, echo=True, access_log=False) as runtime:
        assert runtime.workspace is not None
        assert runtime.workspace.seed_password == "replaced-tenant1"
    assert "replaced-tenant1" in capsys.readouterr().out
    assert json.loads(workspace_file.read_text())["seedPassword"] == "replaced-tenant1"
    assert stat.S_IMODE(workspace_file.stat().st_mode) == 0o600
    with LocalRuntime(TEMPLATE, tmp_path, echo=False, access_log=False):
        pass
    assert fake_workspace_module == ["Local workspace", "replace tenant1"]


def test_cli_serves_and_saves_on_sigterm(tmp_path: Path) -> None:
    process = RuntimeProcess(tmp_path, TEMPLATE, bootstrap=False)
    with process:
        response = httpx.get(f"{process.base_url}/v0/methods", timeout=30)
        assert response.json()["function"] == "EchoFunction"
        assert httpx.get(f"{process.base_url}/_local/health").json() == {"status": "ok"}
    assert process.returncode == 0, process.log_tail()
    assert json.loads((tmp_path / TABLE_FILE).read_text())["tables"] == {"portcullis": []}
