"""moto in-process, and the template's AWS resources created in it under local names.

moto runs as a real HTTP server (so boto3 and pynamodb use their normal wire protocol)
in this process (so the runtime can read and restore KMS key material, and see requests
through `wiretap`). Provisioning returns what `!Ref` / `!GetAtt` mean locally for each
resource, which is how the functions' environment variables get local values.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.core.base_backend import BackendDict, backend_lock
from moto.kms.models import kms_backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from infra.local import moto_dynamodb, moto_queries
from infra.local.cfn import Intrinsics, Unresolvable
from infra.local.template import ACCOUNT_ID, STACK_NAME, SamTemplate
from infra.local.wiretap import WsgiApp
from portcullis.store.schema import create_table

log = logging.getLogger(__name__)

DEFAULT_TABLE_NAME = "portcullis"
DEFAULT_BUS_NAME = "portcullis"
LOCAL_KEY_ALIAS = "alias/portcullis-local"


class MotoServer(ThreadedMotoServer):
    """moto's threaded server with a WSGI middleware (`wiretap`) in front of its app.

    `ThreadedMotoServer` offers no hook for middleware, so the server entry is re-done
    with moto's own pieces; everything else (start/stop/port) is inherited.
    """

    def __init__(
        self, wrap: Callable[[WsgiApp], WsgiApp], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        """`host`/`port`: loopback and a free port, unless something outside this process
        must reach moto too (`make sam-local`: the functions' containers)."""
        moto_dynamodb.install()
        moto_queries.install()  # queries read only their candidates (docs/performance.md)
        super().__init__(ip_address=host, port=port, verbose=False)
        self._wrap = wrap
        # werkzeug logs every moto request at INFO on its own handler; that is noise here.
        werkzeug_log = logging.getLogger("werkzeug")
        if werkzeug_log.level == logging.NOTSET:
            werkzeug_log.setLevel(logging.WARNING)

    def _server_entry(self) -> None:
        app = self._wrap(DomainDispatcherApplication(create_backend_app))  # type: ignore[arg-type]
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host}:{port}"


def forget_account(account_id: str = ACCOUNT_ID) -> None:
    """Drop every moto resource of one account, leaving other accounts' data alone.

    moto's backends are process-global and its reset API clears all accounts, which would
    also wipe the data of tests running their own moto in this process.
    """
    with backend_lock:
        for backends in list(BackendDict._instances):
            if account_id in backends:
                backends[account_id].reset()
                del backends[account_id]


@dataclass(frozen=True)
class KmsKeyState:
    """What makes ciphertexts decryptable again: moto embeds the key id in each blob."""

    key_id: str
    material: bytes

    def to_json(self) -> dict[str, str]:
        return {"keyId": self.key_id, "material": base64.b64encode(self.material).decode()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> KmsKeyState:
        return cls(key_id=data["keyId"], material=base64.b64decode(data["material"]))


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str


@dataclass
class LocalResources:
    """Local names of the template's resources and what intrinsics resolve to."""

    region: str
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    buses: dict[str, str] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    function_names: dict[str, str] = field(default_factory=dict)
    kms_key: KmsKeyState | None = None
    kms_key_arn: str = ""

    def intrinsics(self, template: SamTemplate) -> Intrinsics:
        base = template.base_intrinsics
        return Intrinsics(
            parameters=base.parameters,
            pseudo=base.pseudo,
            refs=self.refs,
            attributes=self.attributes,
            conditions=base.conditions,
            mappings=base.mappings,
        )


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"


def _name(template: SamTemplate, resource: dict[str, Any], prop: str, fallback: str) -> str:
    """The resource's explicit name when it resolves locally, else a predictable one."""
    value = (resource.get("Properties") or {}).get(prop)
    if value is None:
        return fallback
    try:
        return template.base_intrinsics.resolve_string(value)
    except Unresolvable as error:
        log.warning("cannot resolve %s (%s); using %r", prop, error, fallback)
        return fallback


class Provisioner:
    """Creates the template's resources in moto (idempotently) and records their local names."""

    def __init__(self, template: SamTemplate, region: str) -> None:
        self.template = template
        self.region = region
        self.resources = LocalResources(region=region)
        session = boto3.session.Session(region_name=region)
        self._dynamodb = session.client("dynamodb")
        self._kms = session.client("kms")
        self._events = session.client("events")
        self._sqs = session.client("sqs")
        self._sns = session.client("sns")
        self._ses = session.client("ses")
        self._s3 = session.client("s3")

    def provision(self, kms_state: KmsKeyState | None) -> LocalResources:
        self._tables()
        self._kms_key(kms_state)
        self._buses()
        self._queues()
        self._buckets()
        self._topics()
        self._configuration_sets()
        self._functions_and_apis()
        self._queue_rules()
        return self.resources

    def verify_sender(self, address: str) -> None:
        """Mark an email address (or a domain) as a verified SES identity."""
        if "@" in address:
            self._ses.verify_email_identity(EmailAddress=address)
        elif address:
            self._ses.verify_domain_identity(Domain=address)

    def _tables(self) -> None:
        tables = self.template.of_type("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
        for index, (logical_id, resource) in enumerate(tables.items()):
            fallback = DEFAULT_TABLE_NAME if index == 0 else f"{STACK_NAME}-{logical_id}"
            name = _name(self.template, resource, "TableName", fallback)
            create_table(self._dynamodb, name, stream=False)
            description = self._dynamodb.describe_table(TableName=name)["Table"]
            self.resources.tables[logical_id] = name
            self.resources.refs[logical_id] = name
            self.resources.attributes[(logical_id, "Arn")] = description["TableArn"]
            self.resources.attributes[(logical_id, "StreamArn")] = description.get(
                "LatestStreamArn", ""
            )
        if not tables:
            create_table(self._dynamodb, DEFAULT_TABLE_NAME, stream=False)
            self.resources.tables["Table"] = DEFAULT_TABLE_NAME

    def _kms_key(self, state: KmsKeyState | None) -> None:
        state = restore_kms_key(self._kms, state, self.region)
        self.resources.kms_key = state
        arn = _arn("kms", self.region, f"key/{state.key_id}")
        self.resources.kms_key_arn = arn
        aliases = {LOCAL_KEY_ALIAS}
        for logical_id in self.template.of_type("AWS::KMS::Key"):
            self.resources.refs[logical_id] = state.key_id
            self.resources.attributes[(logical_id, "Arn")] = arn
            self.resources.attributes[(logical_id, "KeyId")] = state.key_id
        for logical_id, resource in self.template.of_type("AWS::KMS::Alias").items():
            alias = _name(self.template, resource, "AliasName", f"alias/{STACK_NAME}-{logical_id}")
            aliases.add(alias)
            self.resources.refs[logical_id] = alias
        for alias in sorted(aliases):
            self._kms.create_alias(AliasName=alias, TargetKeyId=state.key_id)

    def _buses(self) -> None:
        buses = self.template.of_type("AWS::Events::EventBus")
        for index, (logical_id, resource) in enumerate(buses.items()):
            fallback = DEFAULT_BUS_NAME if index == 0 else f"{STACK_NAME}-{logical_id}"
            name = _name(self.template, resource, "Name", fallback)
            arn = self._events.create_event_bus(Name=name)["EventBusArn"]
            self.resources.buses[logical_id] = name
            self.resources.refs[logical_id] = name
            self.resources.attributes[(logical_id, "Arn")] = arn
            self.resources.attributes[(logical_id, "Name")] = name
        if not buses:
            self._events.create_event_bus(Name=DEFAULT_BUS_NAME)
            self.resources.buses["EventBus"] = DEFAULT_BUS_NAME

    def _queues(self) -> None:
        """Queues with their attributes; a redrive policy names another queue of the
        template, so it is set once every queue exists (dead-letter queues included)."""
        redrives: dict[str, Any] = {}
        for logical_id, resource in self.template.of_type("AWS::SQS::Queue").items():
            props = resource.get("Properties") or {}
            resolve = self.template.base_intrinsics.resolve
            fifo = bool(resolve(props.get("FifoQueue", False)))
            fallback = f"{STACK_NAME}-{logical_id}" + (".fifo" if fifo else "")
            name = _name(self.template, resource, "QueueName", fallback)
            attributes = {"VisibilityTimeout": str(resolve(props.get("VisibilityTimeout", 30)))}
            for prop in ("DelaySeconds", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds"):
                if prop in props:
                    attributes[prop] = str(resolve(props[prop]))
            if fifo:
                attributes["FifoQueue"] = "true"
                attributes["ContentBasedDeduplication"] = str(
                    bool(props.get("ContentBasedDeduplication", False))
                ).lower()
            url = self._sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = _arn("sqs", self.region, name)
            self.resources.queues[logical_id] = Queue(name=name, url=url, arn=arn)
            self.resources.refs[logical_id] = url
            self.resources.attributes[(logical_id, "Arn")] = arn
            self.resources.attributes[(logical_id, "QueueName")] = name
            self.resources.attributes[(logical_id, "QueueUrl")] = url
            if props.get("RedrivePolicy") is not None:
                redrives[logical_id] = props["RedrivePolicy"]
        intrinsics = self.resources.intrinsics(self.template)
        for logical_id, raw in redrives.items():
            try:
                policy = intrinsics.resolve(raw)
            except Unresolvable as error:
                log.warning("queue %s: redrive policy not resolvable (%s)", logical_id, error)
                continue
            self._sqs.set_queue_attributes(
                QueueUrl=self.resources.queues[logical_id].url,
                Attributes={"RedrivePolicy": json.dumps(policy)},
            )

    def _buckets(self) -> None:
        """S3 buckets (the imports bucket) in moto's S3. Uploads live in moto's memory
        only: they are not saved with the table, and a file uploaded before a restart
        must be uploaded again (docs/imports.md)."""
        for logical_id, resource in self.template.of_type("AWS::S3::Bucket").items():
            fallback = f"{STACK_NAME}-{logical_id}".lower()
            name = _name(self.template, resource, "BucketName", fallback)
            with contextlib.suppress(self._s3.exceptions.BucketAlreadyOwnedByYou):
                if self.region == "us-east-1":
                    self._s3.create_bucket(Bucket=name)
                else:
                    self._s3.create_bucket(
                        Bucket=name,
                        CreateBucketConfiguration={"LocationConstraint": self.region},
                    )
            self.resources.refs[logical_id] = name
            self.resources.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
            self.resources.attributes[(logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"

    def _topics(self) -> None:
        for logical_id, resource in self.template.of_type("AWS::SNS::Topic").items():
            name = _name(self.template, resource, "TopicName", f"{STACK_NAME}-{logical_id}")
            arn = self._sns.create_topic(Name=name)["TopicArn"]
            self.resources.refs[logical_id] = arn
            self.resources.attributes[(logical_id, "TopicArn")] = arn
            self.resources.attributes[(logical_id, "TopicName")] = name

    def _configuration_sets(self) -> None:
        """SES configuration sets: `!Ref` is the name (moto ignores it when sending)."""
        for logical_id, resource in self.template.of_type("AWS::SES::ConfigurationSet").items():
            name = _name(self.template, resource, "Name", f"{STACK_NAME}-{logical_id}")
            with contextlib.suppress(self._ses.exceptions.ConfigurationSetAlreadyExistsException):
                self._ses.create_configuration_set(ConfigurationSet={"Name": name})
            self.resources.refs[logical_id] = name

    def _functions_and_apis(self) -> None:
        for logical_id, resource in self.template.of_type(
            "AWS::Serverless::Function", "AWS::Lambda::Function"
        ).items():
            name = _name(self.template, resource, "FunctionName", logical_id)
            self.resources.function_names[logical_id] = name
            self.resources.refs[logical_id] = name
            self.resources.attributes[(logical_id, "Arn")] = _arn(
                "lambda", self.region, f"function:{name}"
            )
        for logical_id in self.template.of_type(
            "AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"
        ):
            self.resources.refs[logical_id] = _arn("lambda", self.region, f"layer:{logical_id}:1")
        for logical_id in self.template.of_type("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            self.resources.refs[logical_id] = "local"
            self.resources.attributes[(logical_id, "RootResourceId")] = "local"

    def _queue_rules(self) -> None:
        """Rules that target queues are created in moto, which delivers to SQS itself."""
        intrinsics = self.resources.intrinsics(self.template)
        for logical_id, resource in self.template.of_type("AWS::Events::Rule").items():
            props = resource.get("Properties") or {}
            targets = []
            for target in props.get("Targets") or []:
                try:
                    arn = intrinsics.resolve_string(target.get("Arn"))
                except Unresolvable as error:
                    log.warning(
                        "rule %s: target %s not resolvable (%s)",
                        logical_id,
                        target.get("Id"),
                        error,
                    )
                    continue
                if arn.startswith("arn:aws:sqs:"):
                    targets.append({"Id": str(target.get("Id", "queue")), "Arn": arn})
            if not targets or "EventPattern" not in props:
                continue
            try:
                bus = intrinsics.resolve_string(props.get("EventBusName", "default"))
                pattern = intrinsics.resolve(props["EventPattern"])
            except Unresolvable as error:
                log.warning("rule %s skipped: %s", logical_id, error)
                continue
            self._events.put_rule(
                Name=logical_id, EventBusName=bus, EventPattern=json.dumps(pattern)
            )
            self._events.put_targets(Rule=logical_id, EventBusName=bus, Targets=targets)


def restore_kms_key(client: Any, state: KmsKeyState | None, region: str) -> KmsKeyState:
    """Create the local key, re-homed under a saved id and material when there is one.

    moto 5.2.5 supports neither custom key ids nor ImportKeyMaterial, and every moto
    ciphertext names its key id, so after a restart the new key must take over the old
    id and bytes for existing envelope-encrypted data (JWT signing keys) to decrypt.
    """
    created = client.create_key(
        Description="Portcullis local key",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
    )
    new_id = created["KeyMetadata"]["KeyId"]
    backend = kms_backends[ACCOUNT_ID][region]
    key = backend.keys[new_id]
    if state is None:
        return KmsKeyState(key_id=new_id, material=bytes(key.key_material))
    del backend.keys[new_id]
    key.id = state.key_id
    key.arn = _arn("kms", region, f"key/{state.key_id}")
    key.key_material = state.material
    backend.keys[state.key_id] = key
    return state
