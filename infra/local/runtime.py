"""`LocalRuntime`: the whole service in one process, as a library (the CLI is a thin shell).

Start-up order matters and is the point of this module: moto first (every client must
find it), then the template's resources (their local names feed the environment), then
the environment (functions read it at import), then the functions, the saved data, the
bootstrap workspace, and only then the HTTP server, so `start()` returns a service that
is ready for requests. `stop()` undoes all of it, including `os.environ`, so a test
process can start a runtime and carry on afterwards.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer
from moto.ses.models import ses_backends

from infra.local.aws import LocalResources, MotoServer, Provisioner, forget_account
from infra.local.bootstrap import (
    Workspace,
    banner,
    create_workspace,
    load_workspace,
    replace_seed_password,
    save_workspace,
    write_local_file,
)
from infra.local.cfn import NO_VALUE, Intrinsics, Unresolvable
from infra.local.dispatch import AsyncInvoker, QueuePoller, QueueSource
from infra.local.drain import OutboxDrainer
from infra.local.environment import ProcessEnvironment, configured_region, point_at_moto
from infra.local.eventbus import BusEvent, EventLog, LocalRule, RuleRouter
from infra.local.lambdas import LocalFunction, load_functions, unload_functions
from infra.local.messages import MessageLog, SentMessage
from infra.local.persistence import (
    TABLE_FILE,
    WORKSPACE_FILE,
    load_kms,
    load_tables,
    save_kms,
    save_tables,
)
from infra.local.routing import Router
from infra.local.server import LocalGateway, LocalHttpServer
from infra.local.sesevents import SesEventSimulator, Subscriber
from infra.local.template import ACCOUNT_ID, QueueTrigger, SamTemplate, TopicTrigger
from infra.local.wiretap import InvokeOutcome, WireTap, WsgiApp, invoke_response
from portcullis.store.schema import TTL_ATTRIBUTE

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
DRAIN_INTERVAL_SECONDS = 2.0
SAVE_INTERVAL_SECONDS = 30.0
WEBHOOK_RETRY_DELAYS_VARIABLE = "PORTCULLIS_WEBHOOK_RETRY_DELAYS"
#: Variables `point_at_moto` sets for this process: a template value (`AWS_ENDPOINT_URL`
#: for `make sam-local`'s containers) must not send this process's clients elsewhere.
MOTO_OWNED_VARIABLES = frozenset({"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"})


_Part = TypeVar("_Part")


def _while_started(part: _Part | None) -> _Part:
    """A part the runtime has only between `start` and `stop` (the properties below)."""
    if part is None:
        raise RuntimeError("the runtime is not started")
    return part


def _warn(message: str) -> None:
    print(f"[portcullis-local] warning: {message}", file=sys.stderr)


class Started(ABC):
    """`with x:` starts x and stops it however the block ends (the runtime in this
    process, or in a child one: `process.RuntimeProcess`)."""

    @abstractmethod
    def start(self) -> Self:
        """Start serving; returns self, so `with X(...) as running:` reads naturally."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and release what `start` took."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_Trigger = TypeVar("_Trigger", QueueTrigger, TopicTrigger)


def _resolved_sources(
    intrinsics: Intrinsics, sources: Iterable[tuple[_Trigger, Any]], what: str
) -> Iterator[tuple[_Trigger, str]]:
    """Each trigger with the ARN its raw source value resolves to; one that does not
    resolve locally is warned about and left out (the rest of the runtime still runs)."""
    for trigger, raw in sources:
        try:
            arn = intrinsics.resolve_string(raw)
        except Unresolvable as error:
            _warn(f"{trigger.function_id}: {what} not resolvable ({error})")
            continue
        yield trigger, arn


def start_or_explain(runtime: LocalRuntime, hint: str) -> bool:
    """Start `runtime` for a command (`make dev`, `make sam-local`): a port in use is an
    `OSError`, told on stderr with `hint` (what to check or change), not a traceback.
    False when it did not start."""
    try:
        runtime.start()
    except OSError as error:
        print(f"cannot start the local runtime: {error} ({hint})", file=sys.stderr)
        return False
    return True


class LocalRuntime(Started):
    """The template's API on `base_url`, backed by an in-process moto, state in `data_dir`.

    One per process at a time: the functions' configuration and boto3's endpoint live in
    `os.environ`, which a second runtime would overwrite.
    """

    _active: LocalRuntime | None = None
    _active_lock = threading.Lock()

    def __init__(
        self,
        template_path: Path | str = DEFAULT_TEMPLATE,
        data_dir: Path | str = ".portcullis",
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        bootstrap: bool = True,
        parameters: Mapping[str, str] | None = None,
        echo: bool = True,
        access_log: bool = True,
        save_interval: float = SAVE_INTERVAL_SECONDS,
        moto_host: str = "127.0.0.1",
        moto_port: int = 0,
    ) -> None:
        """`save_interval`: seconds between saves of the tables while running; 0 saves
        only at start-up and stop (test runtimes, whose data dies with them: each save
        scans the whole table)."""
        self.template_path = Path(template_path).resolve()
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.requested_port = port
        self.bootstrap = bootstrap
        self.parameters = dict(parameters or {})
        self.echo = echo
        self.access_log = access_log
        self.save_interval = save_interval
        self.moto_host = moto_host
        self.moto_port = moto_port
        self.workspace: Workspace | None = None
        self.region = "us-east-1"
        self.messages = MessageLog(echo=sys.stdout if echo else None)
        self.events = EventLog()
        self._env = ProcessEnvironment()
        self._moto: MotoServer | None = None
        self._http: LocalHttpServer | None = None
        self._http_thread: threading.Thread | None = None
        self._housekeeper: threading.Thread | None = None
        self._stopping = threading.Event()
        self._functions: dict[str, LocalFunction] = {}
        self._resources: LocalResources | None = None
        self._template: SamTemplate | None = None
        self._provisioner: Provisioner | None = None
        self._invoker: AsyncInvoker | None = None
        self._poller: QueuePoller | None = None
        self._rules: RuleRouter | None = None
        self._drain = OutboxDrainer()
        self._save_lock = threading.Lock()
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        return _while_started(self._http).port

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def moto_endpoint(self) -> str:
        """moto's URL as seen from this host (`make sam-local` hands containers another)."""
        return _while_started(self._moto).endpoint

    @property
    def moto_port_in_use(self) -> int:
        return _while_started(self._moto).get_host_and_port()[1]

    @property
    def template(self) -> SamTemplate:
        """The loaded template (parameters applied), while started."""
        return _while_started(self._template)

    @property
    def resources(self) -> LocalResources:
        """The local names of the template's resources, while started."""
        return _while_started(self._resources)

    def start(self) -> LocalRuntime:
        """Bring everything up; returns once requests can be served."""
        with LocalRuntime._active_lock:
            if LocalRuntime._active is not None:
                raise RuntimeError("another LocalRuntime is running in this process")
            LocalRuntime._active = self
        self._started = True
        self._stopping.clear()
        try:
            self._start()
        except BaseException:
            self._teardown(save=False)
            raise
        return self

    def stop(self) -> None:
        """Save state and release everything; safe to call twice."""
        if not self._started:
            return
        self._teardown(save=True)

    def save(self) -> None:
        """Write the tables to `table.json` now (also done every 30 s and on stop)."""
        if self._resources is None:
            return
        with self._save_lock:
            client = boto3.session.Session(region_name=self.region).client("dynamodb")
            save_tables(client, self._resources.tables.values(), self.data_dir)

    # -- start-up ----------------------------------------------------------------------

    def _start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.region = configured_region()
        had_saved_table = (self.data_dir / TABLE_FILE).is_file()
        # Bind first: a port already in use should fail before anything else starts.
        self._http = LocalHttpServer((self.host, self.requested_port), access_log=self.access_log)

        self._tap: WireTap | None = None
        self._drained_writes = -1
        self._moto = MotoServer(wrap=self._wrap_moto, host=self.moto_host, port=self.moto_port)
        self._moto.start()
        point_at_moto(self._env, self._moto.endpoint, self.region)

        template = SamTemplate.load(self.template_path, self.parameters, self.region)
        self._template = template
        self._provisioner = Provisioner(template, self.region)
        self._resources = self._provisioner.provision(load_kms(self.data_dir))
        assert self._resources.kms_key is not None
        save_kms(self.data_dir, self._resources.kms_key)

        self._env.update(self._function_environment(template, self._resources))
        sender = os.environ.get("SENDER_EMAIL", "")
        if sender:
            self._provisioner.verify_sender(sender)

        dynamodb = boto3.session.Session(region_name=self.region).client("dynamodb")
        load_tables(dynamodb, self._resources.tables.values(), self.data_dir, TTL_ATTRIBUTE)

        self._functions = load_functions(
            template.functions.values(), self._resources.function_names, self.region
        )
        self._invoker = AsyncInvoker(self._functions, after_invoke=self._drain)
        self._invoker.start()
        self._rules = RuleRouter(
            self._local_rules(template, self._resources), self._invoker.submit, self.region
        )
        self._poller = QueuePoller(
            self._queue_sources(template, self._resources),
            self._functions,
            boto3.session.Session(region_name=self.region).client("sqs"),
            self.region,
            after_invoke=self._drain,
        )
        self._poller.start()

        self.workspace = self._bootstrap(had_saved_table)

        self._http.gateway = LocalGateway(
            router=Router(template.routes),
            functions=self._functions,
            cors=template.cors,
            messages=self.messages,
            events=self.events,
            drain=self._drain,
            stage_variables=self._stage_variables(template, self._resources),
            dynamodb_calls=self._dynamodb_calls,
            after_request=self._drain_if_written,
            ses_events=SesEventSimulator(
                self.messages, self._ses_subscribers(template, self._resources), self._invoke_now
            ).simulate,
            webhooks=self._webhook_deliveries,
        )
        self._http_thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.25},
            name="local-http",
            daemon=True,
        )
        self._http_thread.start()
        self._housekeeper = threading.Thread(
            target=self._housekeeping, name="local-housekeeping", daemon=True
        )
        self._housekeeper.start()

        write_local_file(self.data_dir, self.base_url, self.workspace)
        if self.echo:
            sys.stdout.write(
                banner(self.base_url, self.data_dir, self.workspace, len(template.routes))
            )
            sys.stdout.flush()

    def _wrap_moto(self, app: WsgiApp) -> WsgiApp:
        self._tap = WireTap(app, self, quiet=lambda: self._drain.active)
        return self._tap

    def _drain_if_written(self) -> None:
        """After an HTTP request: drain only if an item was created since the last such
        drain (outbox items are only ever created so). A request that only read or
        counted (most refusals) then costs no drain, which is 8 queries of the outbox
        shards; the periodic drain still catches retries that fall due."""
        writes = self._tap.item_writes if self._tap is not None else -1
        if writes >= 0 and writes == self._drained_writes:
            return
        self._drained_writes = writes
        self._drain()

    def _webhook_deliveries(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """`GET /_local/webhooks`: every delivery in the table with its attempts, newest
        first. A Scan is fine for a developer's table; the admin API reads by tenant."""
        if self._resources is None:
            return []
        client = boto3.session.Session(region_name=self.region).client("dynamodb")
        deserialize = TypeDeserializer().deserialize
        found: list[dict[str, Any]] = []
        for table in self._resources.tables.values():
            pages = client.get_paginator("scan").paginate(
                TableName=table,
                FilterExpression="#t = :t",
                ExpressionAttributeNames={"#t": "type"},
                ExpressionAttributeValues={":t": {"S": "webhookDelivery"}},
            )
            for page in pages:
                for raw in page.get("Items") or []:
                    item = {k: deserialize(v) for k, v in raw.items()}
                    attempts = item.get("attempts")
                    found.append(
                        {
                            "webhookId": item.get("webhookId"),
                            "tenantId": item.get("tenantId"),
                            "mode": item.get("mode"),
                            "event": item.get("event"),
                            "url": item.get("url"),
                            "status": item.get("status"),
                            "createdAt": item.get("createdAt"),
                            "attempts": json.loads(attempts) if isinstance(attempts, str) else [],
                        }
                    )
        for name in ("tenantId", "status", "event", "webhookId"):
            if name in query:
                found = [d for d in found if d.get(name) == query[name]]
        found.sort(key=lambda d: str(d.get("createdAt") or ""), reverse=True)
        return found

    def _dynamodb_calls(self) -> int:
        return self._tap.dynamodb_calls if self._tap is not None else 0

    def _function_environment(
        self, template: SamTemplate, resources: LocalResources
    ) -> dict[str, str]:
        """One environment for all functions: they share this process (a warning on conflicts).

        Defaults come first so a template that does not pass the table/key/bus explicitly
        still points the core at the local ones; the template's values override them, and
        the base URL and stage are always the local ones.
        """
        values: dict[str, str] = {"POWERTOOLS_TRACE_DISABLED": "true"}
        if resources.tables:
            values["TABLE_NAME"] = next(iter(resources.tables.values()))
        if resources.kms_key is not None:
            values["KMS_KEY_ID"] = resources.kms_key.key_id
        if resources.buses:
            values["EVENT_BUS_NAME"] = next(iter(resources.buses.values()))
        intrinsics = resources.intrinsics(template)
        chosen: dict[str, tuple[str, str]] = {}
        for spec in template.functions.values():
            for name, raw in spec.environment.items():
                if name in MOTO_OWNED_VARIABLES:
                    continue  # set by point_at_moto; the template's value is for containers
                try:
                    if intrinsics.resolve(raw) is NO_VALUE:
                        continue  # CloudFormation drops the variable
                    value = intrinsics.resolve_string(raw)
                except Unresolvable as error:
                    _warn(
                        f"{spec.logical_id}: {name} is not resolvable locally ({error}); set to ''"
                    )
                    value = ""
                if name in chosen and chosen[name][1] != value:
                    _warn(
                        f"functions disagree on {name}: {chosen[name][0]}={chosen[name][1]!r}, "
                        f"{spec.logical_id}={value!r}; all functions get {chosen[name][1]!r}"
                    )
                    continue
                chosen.setdefault(name, (spec.logical_id, value))
        values.update({name: value for name, (_, value) in chosen.items()})
        # Webhook retries (docs/webhooks.md): the real schedule unless the developer (or
        # the test fixtures, which cannot wait minutes) sets a schedule of seconds.
        values["WEBHOOK_RETRY_DELAYS"] = os.environ.get(WEBHOOK_RETRY_DELAYS_VARIABLE, "")
        values["PUBLIC_BASE_URL"] = self.base_url
        values["STAGE"] = "local"
        # Test-mode webhooks may target a developer's receiver on loopback (live never).
        values["WEBHOOKS_ALLOW_LOCALHOST"] = "true"
        # SSO (docs/sso.md "Testing"): test mode may point a named provider's endpoints
        # at a local OIDC provider, reached over plain http. Never set in a deployment.
        values["SSO_ENDPOINT_OVERRIDE"] = "true"
        values["AUTHLIB_INSECURE_TRANSPORT"] = "true"
        return values

    def _stage_variables(self, template: SamTemplate, resources: LocalResources) -> dict[str, str]:
        """The API's stage variables; the public base URL is the local one, as in the env."""
        intrinsics = resources.intrinsics(template)
        variables: dict[str, str] = {}
        for name, raw in template.stage_variables.items():
            try:
                variables[name] = intrinsics.resolve_string(raw)
            except Unresolvable as error:
                _warn(f"stage variable {name} is not resolvable locally ({error}); set to ''")
                variables[name] = ""
        if "PUBLIC_BASE_URL" in variables:
            variables["PUBLIC_BASE_URL"] = self.base_url
        return variables

    def _local_rules(self, template: SamTemplate, resources: LocalResources) -> list[LocalRule]:
        intrinsics = resources.intrinsics(template)
        rules = []
        for trigger in template.rule_triggers:
            if trigger.function_id not in template.functions:
                continue
            try:
                bus = (
                    intrinsics.resolve_string(trigger.bus) if trigger.bus is not None else "default"
                )
                pattern = intrinsics.resolve(trigger.pattern)
                payload = intrinsics.resolve(trigger.input) if trigger.input is not None else None
            except Unresolvable as error:
                _warn(f"rule {trigger.rule_id} is not active locally: {error}")
                continue
            rules.append(
                LocalRule.create(trigger.rule_id, bus, pattern, trigger.function_id, payload)
            )
        return rules

    def _queue_sources(self, template: SamTemplate, resources: LocalResources) -> list[QueueSource]:
        intrinsics = resources.intrinsics(template)
        by_arn = {queue.arn: queue for queue in resources.queues.values()}
        sources = []
        queues = ((trigger, trigger.queue) for trigger in template.queue_triggers)
        for trigger, arn in _resolved_sources(intrinsics, queues, "SQS source"):
            queue = by_arn.get(arn)
            if queue is None:
                _warn(f"{trigger.function_id}: SQS source {arn} is not a queue of the template")
                continue
            sources.append(
                QueueSource(
                    function_id=trigger.function_id,
                    queue_url=queue.url,
                    queue_arn=queue.arn,
                    batch_size=trigger.batch_size,
                    report_batch_item_failures=trigger.report_batch_item_failures,
                )
            )
        return sources

    def _ses_subscribers(
        self, template: SamTemplate, resources: LocalResources
    ) -> list[Subscriber]:
        """Functions subscribed (`Type: SNS`) to a topic that an SES configuration set
        publishes its events to (`AWS::SES::ConfigurationSetEventDestination`)."""
        intrinsics = resources.intrinsics(template)
        topics = set()
        for resource in template.of_type("AWS::SES::ConfigurationSetEventDestination").values():
            destination = ((resource.get("Properties") or {}).get("EventDestination")) or {}
            raw = (destination.get("SnsDestination") or {}).get("TopicARN")
            try:
                topics.add(intrinsics.resolve_string(raw))
            except Unresolvable as error:
                _warn(f"SES event destination topic not resolvable ({error})")
        subscribed = ((trigger, trigger.topic) for trigger in template.topic_triggers)
        return [
            Subscriber(function_id=trigger.function_id, topic_arn=arn)
            for trigger, arn in _resolved_sources(intrinsics, subscribed, "SNS topic")
            if arn in topics
        ]

    def _invoke_now(self, function_id: str, event: dict[str, Any]) -> Any:
        """Run a function with `event` now (as SNS would), then send what it wrote."""
        try:
            return self._functions[function_id].invoke(event)
        except Exception as error:
            traceback.print_exception(error, file=sys.stderr)
            return {"errorType": type(error).__name__, "errorMessage": str(error)}
        finally:
            self._drain()

    def _bootstrap(self, had_saved_table: bool) -> Workspace | None:
        saved = load_workspace(self.data_dir)
        if not self.bootstrap:
            return saved
        if saved is not None and had_saved_table:
            if saved.seed_password is None:
                # Table first: a crash in between leaves the old file, which retries.
                saved = replace_seed_password(saved)
                self._drain()
                self.save()
                save_workspace(self.data_dir, saved)
                _warn("the seed users' fixed password was replaced; see the banner for the new one")
            return saved
        if saved is not None:
            _warn(f"{self.data_dir / WORKSPACE_FILE} exists but no table was saved; new workspace")
        workspace = create_workspace()
        save_workspace(self.data_dir, workspace)
        self._drain()
        self.save()
        return workspace

    # -- while running -----------------------------------------------------------------

    def _housekeeping(self) -> None:
        last_save = time.monotonic()
        while not self._stopping.wait(DRAIN_INTERVAL_SECONDS):
            self._drain()
            if self.save_interval and time.monotonic() - last_save >= self.save_interval:
                last_save = time.monotonic()
                try:
                    self.save()
                except Exception as error:
                    _warn(f"periodic save failed: {error}")

    # WireTapListener: called from moto's request threads.

    def on_message(self, message: SentMessage) -> None:
        self.messages.add(message)

    def on_events(self, events: list[BusEvent]) -> None:
        self.events.add(events)
        if self._rules is not None:
            self._rules.route(events)

    def verify_sender(self, address: str, region: str) -> None:
        ses_backends[ACCOUNT_ID][region or self.region].verify_email_identity(address)

    def invoke_function(
        self, name: str, payload: bytes, invocation_type: str
    ) -> InvokeOutcome | None:
        """Lambda Invoke of a template function (by name or ARN) runs it here."""
        if name.startswith("arn:"):
            name = name.split(":")[6]
        name = name.split(":")[0]
        function = next((f for f in self._functions.values() if f.name == name), None)
        if function is None:
            return None
        try:
            event: Any = json.loads(payload) if payload else {}
        except ValueError:
            return InvokeOutcome(
                400,
                [("x-amzn-ErrorType", "InvalidRequestContentException")],
                b'{"Type":"User","message":"Could not parse request body into json"}',
            )
        if invocation_type == "DryRun":
            return InvokeOutcome(204)
        if invocation_type == "Event":
            assert self._invoker is not None
            self._invoker.submit(function.spec.logical_id, event, "async Invoke")
            return InvokeOutcome(202, [("x-amzn-RequestId", str(uuid.uuid4()))])
        request_id = str(uuid.uuid4())
        try:
            result = function.invoke(event)
        except Exception as error:
            traceback.print_exception(error, file=sys.stderr)
            return invoke_response(None, error, request_id)
        finally:
            self._drain()
        return invoke_response(result, None, request_id)

    # -- shutdown ----------------------------------------------------------------------

    def _teardown(self, save: bool) -> None:
        self._stopping.set()
        if self._http is not None:
            if self._http_thread is not None:
                self._http.shutdown()
                self._http_thread.join(10)
            self._http.server_close()
        if self._housekeeper is not None:
            self._housekeeper.join(10)
        if self._poller is not None:
            self._poller.stop()
        if self._invoker is not None:
            self._invoker.stop()
        if save and self._moto is not None and self._resources is not None:
            try:
                self._drain()
                self.save()
            except Exception as error:
                _warn(f"saving state failed: {error}")
        if self._moto is not None:
            self._moto.stop()
            forget_account()
        unload_functions(self._functions.values())
        self._env.restore()
        self._http = self._http_thread = self._housekeeper = None
        self._moto = None
        self._poller = self._invoker = None
        self._rules = None
        self._functions = {}
        self._resources = None
        self._template = None
        self._provisioner = None
        self._drain = OutboxDrainer()
        self._started = False
        with LocalRuntime._active_lock:
            if LocalRuntime._active is self:
                LocalRuntime._active = None
