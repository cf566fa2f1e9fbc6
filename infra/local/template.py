"""The SAM template as data: functions, their API routes and their asynchronous triggers.

`template.yaml` is the only route table (DESIGN.md), so the local runtime derives
everything from it instead of keeping a second list. Values are kept raw (intrinsics
unresolved) until the local resources exist; only `Conditions` are evaluated here,
because they depend on parameters alone and decide which resources exist at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.cfn import Intrinsics, Unresolvable, load_yaml

log = logging.getLogger(__name__)

FUNCTION_TYPE = "AWS::Serverless::Function"
ANY_METHOD = "ANY"
STACK_NAME = "portcullis"
#: The local stack's account. Not moto's default (123456789012), so resources created by a
#: runtime started inside a test process never collide with the tests' own moto data, and
#: stopping the runtime can forget exactly its own account.
ACCOUNT_ID = "000000000000"

#: Event source types whose work the local runtime does another way, so they are skipped
#: on purpose: the table's stream feeds the outbox publisher, which the runtime calls
#: directly (`drain`), and schedules have no local clock.
_DELIBERATELY_IGNORED_EVENTS = {"DynamoDB", "Schedule", "ScheduleV2"}


@dataclass(frozen=True)
class ApiRoute:
    """One `Type: Api` event: a (method, resource path) handled by a function."""

    method: str
    path: str
    function_id: str


@dataclass(frozen=True)
class RuleTrigger:
    """A function invoked for bus events matching `pattern` (raw template values)."""

    function_id: str
    pattern: Any
    bus: Any
    rule_id: str
    input: Any = None


@dataclass(frozen=True)
class QueueTrigger:
    """A function fed by an SQS queue (`Type: SQS`); `queue` is the raw queue ARN value."""

    function_id: str
    queue: Any
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class TopicTrigger:
    """A function subscribed to an SNS topic (`Type: SNS`); `topic` is the raw topic ARN
    value. Locally only `/_local/ses/*` publishes to it (infra/local/sesevents.py)."""

    function_id: str
    topic: Any


@dataclass(frozen=True)
class CorsConfig:
    """SAM's `Api.Cors`: API Gateway answers preflights itself with these headers."""

    allow_origin: str
    allow_methods: str | None
    allow_headers: str | None
    max_age: str | None
    allow_credentials: bool


@dataclass(frozen=True)
class FunctionSpec:
    """A Python function of the template, with Globals already merged in."""

    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    function_name: Any
    environment: Mapping[str, Any]


@dataclass
class SamTemplate:
    """A parsed SAM template with the parts the local runtime acts on."""

    path: Path
    document: dict[str, Any]
    parameters: dict[str, str]
    base_intrinsics: Intrinsics
    resources: dict[str, dict[str, Any]]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[ApiRoute] = field(default_factory=list)
    rule_triggers: list[RuleTrigger] = field(default_factory=list)
    queue_triggers: list[QueueTrigger] = field(default_factory=list)
    topic_triggers: list[TopicTrigger] = field(default_factory=list)
    cors: CorsConfig | None = None
    stage_variables: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        path: Path,
        parameter_overrides: Mapping[str, str] | None = None,
        region: str = "us-east-1",
    ) -> SamTemplate:
        """Parse `path`; parameters take their `Default` unless overridden."""
        document = load_yaml(path)
        parameters = _parameter_values(document.get("Parameters") or {}, parameter_overrides or {})
        intrinsics = Intrinsics(
            parameters=parameters,
            pseudo=pseudo_parameters(region),
            conditions=document.get("Conditions") or {},
            mappings=document.get("Mappings") or {},
        )
        resources = {
            logical_id: resource
            for logical_id, resource in (document.get("Resources") or {}).items()
            if isinstance(resource, dict) and _exists(logical_id, resource, intrinsics)
        }
        template = cls(
            path=path,
            document=document,
            parameters=parameters,
            base_intrinsics=intrinsics,
            resources=resources,
        )
        template._read_functions()
        template._read_rules()
        template.cors = _cors_config(document, resources, intrinsics)
        apis = template.of_type("AWS::Serverless::Api")
        if apis:
            first = next(iter(apis.values()))
            template.stage_variables = (first.get("Properties") or {}).get("Variables") or {}
        return template

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """Resources of the given CloudFormation types, by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource.get("Type") in types
        }

    def _read_functions(self) -> None:
        globals_ = (self.document.get("Globals") or {}).get("Function") or {}
        base_dir = self.path.parent
        for logical_id, resource in self.of_type(FUNCTION_TYPE).items():
            properties = {**globals_, **(resource.get("Properties") or {})}
            runtime = str(properties.get("Runtime", ""))
            code_uri = properties.get("CodeUri")
            handler = properties.get("Handler")
            if not runtime.startswith("python") or not isinstance(code_uri, str) or not handler:
                log.warning(
                    "skipping %s: only Python functions with a local CodeUri run here", logical_id
                )
                continue
            environment = {
                **(((globals_.get("Environment") or {}).get("Variables")) or {}),
                **(
                    ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables")
                    or {}
                ),
            }
            self.functions[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_dir=(base_dir / code_uri).resolve(),
                handler=str(handler),
                runtime=runtime,
                timeout=int(self.base_intrinsics.resolve(properties.get("Timeout", 3))),
                memory=int(self.base_intrinsics.resolve(properties.get("MemorySize", 128))),
                function_name=properties.get("FunctionName"),
                environment=environment,
            )
            self._read_events(logical_id, (resource.get("Properties") or {}).get("Events") or {})

    def _read_events(self, function_id: str, events: Mapping[str, Any]) -> None:
        for event_id, event in events.items():
            kind = event.get("Type")
            props = event.get("Properties") or {}
            if kind == "Api":
                method = str(props.get("Method", "")).upper()
                self.routes.append(
                    ApiRoute(
                        method=ANY_METHOD
                        if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD")
                        else method,
                        path=normalise_path(str(props.get("Path", "/"))),
                        function_id=function_id,
                    )
                )
            elif kind in ("EventBridgeRule", "CloudWatchEvent"):
                self.rule_triggers.append(
                    RuleTrigger(
                        function_id=function_id,
                        pattern=props.get("Pattern") or {},
                        bus=props.get("EventBusName"),
                        rule_id=f"{function_id}{event_id}",
                        input=props.get("Input"),
                    )
                )
            elif kind == "SQS":
                self.queue_triggers.append(
                    QueueTrigger(
                        function_id=function_id,
                        queue=props.get("Queue"),
                        batch_size=int(props.get("BatchSize", 10)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (props.get("FunctionResponseTypes") or []),
                    )
                )
            elif kind == "SNS":
                self.topic_triggers.append(
                    TopicTrigger(function_id=function_id, topic=props.get("Topic"))
                )
            elif kind in _DELIBERATELY_IGNORED_EVENTS:
                log.info("%s.%s (%s) is not emulated locally", function_id, event_id, kind)
            else:
                log.warning(
                    "%s.%s: event type %s is not supported locally", function_id, event_id, kind
                )

    def _read_rules(self) -> None:
        """`AWS::Events::Rule` resources whose targets are functions of this template."""
        for logical_id, resource in self.of_type("AWS::Events::Rule").items():
            props = resource.get("Properties") or {}
            if props.get("State", "ENABLED") != "ENABLED" or "EventPattern" not in props:
                continue
            for target in props.get("Targets") or []:
                function_id = _function_target(target.get("Arn"), self.functions)
                if function_id is not None:
                    self.rule_triggers.append(
                        RuleTrigger(
                            function_id=function_id,
                            pattern=props["EventPattern"],
                            bus=props.get("EventBusName"),
                            rule_id=logical_id,
                            input=target.get("Input"),
                        )
                    )


def pseudo_parameters(region: str = "us-east-1") -> dict[str, str]:
    """CloudFormation's pseudo parameters as the local stack answers them."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::StackName": STACK_NAME,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": "",
    }


def normalise_path(path: str) -> str:
    """API Gateway ignores a trailing slash; give every path one canonical spelling."""
    path = "/" + path.strip().strip("/")
    return path


def _parameter_values(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    unknown = set(overrides) - set(declared)
    if unknown:
        log.warning("ignoring overrides for undeclared parameters: %s", ", ".join(sorted(unknown)))
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            values[name] = str(overrides[name])
        elif isinstance(spec, dict) and "Default" in spec:
            default = spec["Default"]
            values[name] = (
                ",".join(map(str, default)) if isinstance(default, list) else str(default)
            )
        else:
            log.warning("parameter %s has no Default; using an empty string locally", name)
            values[name] = ""
    return values


def _exists(logical_id: str, resource: Mapping[str, Any], intrinsics: Intrinsics) -> bool:
    condition = resource.get("Condition")
    if condition is None:
        return True
    try:
        return intrinsics.condition(condition)
    except Unresolvable as error:
        log.warning(
            "%s: cannot evaluate condition %s (%s); creating it", logical_id, condition, error
        )
        return True


def _function_target(arn: Any, functions: Mapping[str, FunctionSpec]) -> str | None:
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        reference = arn["Fn::GetAtt"]
        resource = reference.split(".")[0] if isinstance(reference, str) else reference[0]
        return resource if resource in functions else None
    return None


def _unquote(value: Any) -> str | None:
    """SAM wants CORS values as quoted strings (`"'*'"`); API Gateway sends what's inside."""
    if value is None:
        return None
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return text


def _cors_config(
    document: Mapping[str, Any], resources: Mapping[str, Any], intrinsics: Intrinsics
) -> CorsConfig | None:
    apis = [r for r in resources.values() if r.get("Type") == "AWS::Serverless::Api"]
    candidates = [(api.get("Properties") or {}).get("Cors") for api in apis]
    candidates.append(((document.get("Globals") or {}).get("Api") or {}).get("Cors"))
    raw = next((c for c in candidates if c is not None), None)
    if raw is None:
        return None
    try:
        resolved = intrinsics.resolve(raw)
    except Unresolvable as error:
        log.warning("cannot resolve Api Cors (%s); preflights are left to the functions", error)
        return None
    if isinstance(resolved, str):
        resolved = {"AllowOrigin": resolved}
    return CorsConfig(
        allow_origin=_unquote(resolved.get("AllowOrigin")) or "*",
        allow_methods=_unquote(resolved.get("AllowMethods")),
        allow_headers=_unquote(resolved.get("AllowHeaders")),
        max_age=_unquote(resolved.get("MaxAge")),
        allow_credentials=bool(resolved.get("AllowCredentials", False)),
    )
