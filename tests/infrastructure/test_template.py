"""The SAM template itself: table vs. store/schema.py, the route table rules, globals.

template.yaml is the only route table (the local runtime reads it too), so these tests
guard the rules that neither `sam validate` nor cfn-lint can know about.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
LAYER = ROOT / "layers" / "core"

if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))

from portcullis.store import schema  # noqa: E402

REQUIRED_ENV = {
    "TABLE_NAME",
    "KMS_KEY_ID",
    "EVENT_BUS_NAME",
    "SENDER_EMAIL",
    "SENDER_DOMAINS",
    "STAGE",
    "ALLOWED_ORIGINS",
    "PUBLIC_BASE_URL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
}
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}


# --- loading -----------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (!Ref, !Sub, ...) into their long form."""


def _construct_cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    key = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    with TEMPLATE.open() as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="module")
def functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {
        name: res["Properties"]
        for name, res in resources.items()
        if res["Type"] == "AWS::Serverless::Function"
    }
    assert found, "template.yaml declares no AWS::Serverless::Function"
    return found


@pytest.fixture(scope="module")
def api_events(functions: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(function, event name, event properties) for every `Type: Api` event."""
    return [
        (fn, event_name, event["Properties"])
        for fn, props in functions.items()
        for event_name, event in (props.get("Events") or {}).items()
        if event["Type"] == "Api"
    ]


@pytest.fixture(scope="module")
def table(resources: dict[str, Any]) -> dict[str, Any]:
    assert resources["Table"]["Type"] == "AWS::DynamoDB::Table"
    return resources["Table"]


def _refs(value: Any) -> set[str]:
    """Every logical id referenced by Ref / GetAtt / ${...} inside a template value."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
            found |= _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _refs(inner)
    return found


# --- the table agrees with portcullis/store/schema.py -----------------------------------


def test_table_keys_match_schema(table: dict[str, Any]) -> None:
    expected = schema.table_definition("x")
    props = table["Properties"]
    assert props["BillingMode"] == expected["BillingMode"]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert props["KeySchema"] == expected["KeySchema"]


def test_table_gsis_match_schema(table: dict[str, Any]) -> None:
    expected = {g["IndexName"]: g for g in schema.table_definition("x")["GlobalSecondaryIndexes"]}
    actual = {g["IndexName"]: g for g in table["Properties"]["GlobalSecondaryIndexes"]}
    assert actual.keys() == expected.keys()
    for name, gsi in expected.items():
        assert actual[name]["KeySchema"] == gsi["KeySchema"], name
        assert actual[name]["Projection"] == gsi["Projection"], name


def test_table_ttl_and_stream_match_schema(table: dict[str, Any]) -> None:
    props = table["Properties"]
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": schema.TTL_ATTRIBUTE,
        "Enabled": True,
    }
    stream = schema.table_definition("x")["StreamSpecification"]
    assert stream["StreamEnabled"] is True
    assert props["StreamSpecification"]["StreamViewType"] == stream["StreamViewType"]


def test_table_is_protected(table: dict[str, Any]) -> None:
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_jwt_key_encryption_key_outlives_the_stack(resources: dict[str, Any]) -> None:
    key = resources["JwtKeyEncryptionKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    # The table is retained, so the key that decrypts its JWT signing keys must be too.
    assert key["DeletionPolicy"] == "Retain"


# --- functions -----------------------------------------------------------------------------


def test_every_function_code_uri_has_an_app_with_lambda_handler(
    functions: dict[str, dict[str, Any]],
) -> None:
    for name, props in functions.items():
        assert props["Handler"] == "app.lambda_handler", name
        app = ROOT / props["CodeUri"] / "app.py"
        assert app.is_file(), f"{name}: {app.relative_to(ROOT)} is missing"
        tree = ast.parse(app.read_text(), filename=str(app))
        top_level = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
            t.id
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        assert "lambda_handler" in top_level, f"{name}: app.py defines no lambda_handler"


def test_function_code_uris_are_distinct(functions: dict[str, dict[str, Any]]) -> None:
    uris = [Path(p["CodeUri"]).as_posix() for p in functions.values()]
    assert len(uris) == len(set(uris))


def test_globals_environment_has_required_variables(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert set(variables) >= REQUIRED_ENV
    assert variables["TABLE_NAME"] == {"Ref": "Table"}
    assert "JwtKeyEncryptionKey" in _refs(variables["KMS_KEY_ID"])
    assert variables["EVENT_BUS_NAME"] == {"Ref": "EventBus"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "portcullis"


def test_globals_use_the_core_layer(template: dict[str, Any], resources: dict[str, Any]) -> None:
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.11"
    assert {"Ref": "CoreLayer"} in function_globals["Layers"]
    layer = resources["CoreLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["CompatibleArchitectures"] == function_globals["Architectures"]
    makefile = (LAYER / "Makefile").read_text()
    arch = {"arm64": "aarch64", "x86_64": "x86_64"}[function_globals["Architectures"][0]]
    assert re.search(rf"^ARCH \?= {arch}$", makefile, re.MULTILINE), "Makefile ARCH mismatch"


def test_functions_do_not_reference_the_api(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    """The API's definition references every function: a function referencing the API
    back is a circular dependency that only CloudFormation itself reports, at deploy."""
    env = template["Globals"]["Function"].get("Environment", {})
    assert "Api" not in _refs(env)
    for name, props in functions.items():
        assert "Api" not in _refs(props.get("Environment", {})), name


def test_layer_requirements_match_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    expected = sorted(pyproject["project"]["dependencies"])
    lines = (LAYER / "requirements.txt").read_text().splitlines()
    actual = sorted(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))
    assert actual == expected


# --- the route table -------------------------------------------------------------------------


def test_api_events_reference_the_api(api_events: list[tuple[str, str, dict[str, Any]]]) -> None:
    assert api_events
    for fn, event_name, props in api_events:
        assert props.get("RestApiId") == {"Ref": "Api"}, f"{fn}.{event_name}"
        assert props["Path"].startswith("/v0/"), f"{fn}.{event_name}"
        assert props["Method"].upper() in HTTP_METHODS, f"{fn}.{event_name}"


def test_every_path_is_owned_by_one_function(
    api_events: list[tuple[str, str, dict[str, Any]]],
) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for fn, _, props in api_events:
        owners[props["Path"]].add(fn)
    shared = {path: sorted(fns) for path, fns in owners.items() if len(fns) > 1}
    assert not shared, f"paths served by more than one function: {shared}"


def test_every_path_has_an_any_event_and_an_explicit_method(
    api_events: list[tuple[str, str, dict[str, Any]]],
) -> None:
    methods: dict[str, list[str]] = defaultdict(list)
    for _, _, props in api_events:
        methods[props["Path"]].append(props["Method"].upper())
    for path, declared in methods.items():
        assert "ANY" in declared, f"{path} has no Method: ANY event"
        assert len(declared) >= 2, f"{path} declares no explicit method"
        assert len(declared) == len(set(declared)), f"{path} declares a method twice"


def test_api_leaves_cors_to_the_functions(resources: dict[str, Any]) -> None:
    api = resources["Api"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert "Cors" not in api["Properties"]
    assert api["Properties"]["StageName"] == {"Ref": "Stage"}


def test_gateway_responses_use_the_error_envelope(resources: dict[str, Any]) -> None:
    responses = resources["Api"]["Properties"]["GatewayResponses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= responses.keys()
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    for name, response in responses.items():
        headers = response["ResponseParameters"]["Headers"]
        assert headers["Access-Control-Allow-Origin"] == "'*'", name
        raw = response["ResponseTemplates"]["application/json"]
        # $context.error.messageString arrives as a quoted JSON string.
        body = json.loads(raw.replace("$context.error.messageString", '"Some message"'))
        assert body["statusCode"] == int(response["StatusCode"]), name
        assert isinstance(body["message"], str), name
        assert body["error"]["type"] in {"bad_request_error", "rate_limit_error"}, name


def test_outputs(template: dict[str, Any]) -> None:
    assert {"ApiUrl", "TableName", "EventBusName", "KmsKeyId"} <= template["Outputs"].keys()
    assert template["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"].endswith("/${Stage}/v0/")
