"""Events put on EventBridge: recorded for inspection and delivered to rule targets.

Events are taken from the PutEvents calls as they pass to moto, so they are visible
synchronously (no polling delay between a request and `GET /_local/events`). Delivery to
functions uses moto's own pattern matcher, so local matching follows the same rules as
the rules moto itself evaluates.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.events.models import EventPattern

from infra.local.template import ACCOUNT_ID

log = logging.getLogger(__name__)

DEFAULT_BUS = "default"


@dataclass(frozen=True)
class BusEvent:
    """One accepted PutEvents entry, with the id EventBridge assigned to it."""

    id: str
    bus: str
    source: str
    detail_type: str
    detail: Any
    time: str
    resources: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "detailType": self.detail_type,
            "detail": self.detail,
            "time": self.time,
            "eventBusName": self.bus,
            "resources": list(self.resources),
        }

    def envelope(self, region: str) -> dict[str, Any]:
        """The event as a rule target (a Lambda function) receives it."""
        return {
            "version": "0",
            "id": self.id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": ACCOUNT_ID,
            "time": self.time,
            "region": region,
            "resources": list(self.resources),
            "detail": self.detail,
        }


def bus_name(value: str | None) -> str:
    """PutEvents accepts a bus name or ARN; rules are keyed by name."""
    if not value:
        return DEFAULT_BUS
    return value.rsplit("event-bus/", 1)[-1] if value.startswith("arn:") else value


def _event_time(value: Any) -> str:
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
        except ValueError:
            return value
    else:
        moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_put_events(request: Mapping[str, Any], response: Mapping[str, Any]) -> list[BusEvent]:
    """Entries EventBridge accepted (those that got an EventId), in request order."""
    events = []
    for entry, result in zip(
        request.get("Entries") or [], response.get("Entries") or [], strict=False
    ):
        event_id = result.get("EventId")
        if not event_id:
            continue
        try:
            detail = json.loads(entry.get("Detail") or "null")
        except ValueError:
            detail = entry.get("Detail")
        events.append(
            BusEvent(
                id=event_id,
                bus=bus_name(entry.get("EventBusName")),
                source=entry.get("Source", ""),
                detail_type=entry.get("DetailType", ""),
                detail=detail,
                time=_event_time(entry.get("Time")),
                resources=tuple(entry.get("Resources") or ()),
            )
        )
    return events


class EventLog:
    """Thread-safe record of every event put on any bus, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[BusEvent] = []

    def add(self, events: Iterable[BusEvent]) -> None:
        with self._lock:
            self._events.extend(events)

    def list(self) -> list[BusEvent]:
        with self._lock:
            return list(self._events)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


@dataclass(frozen=True)
class LocalRule:
    """A rule whose target is a local function, with its pattern and bus resolved."""

    rule_id: str
    bus: str
    pattern: EventPattern
    function_id: str
    input: Any = None

    @classmethod
    def create(
        cls, rule_id: str, bus: str, pattern: Mapping[str, Any], function_id: str, input: Any = None
    ) -> LocalRule:
        return cls(
            rule_id=rule_id,
            bus=bus_name(bus),
            pattern=EventPattern.load(json.dumps(pattern)),
            function_id=function_id,
            input=input,
        )


class RuleRouter:
    """Hands each event to the functions whose rules match it (asynchronously, via `deliver`)."""

    def __init__(
        self,
        rules: Iterable[LocalRule],
        deliver: Callable[[str, Any, str], None],
        region: str,
    ) -> None:
        self._rules = list(rules)
        self._deliver = deliver
        self._region = region

    def route(self, events: Iterable[BusEvent]) -> None:
        for event in events:
            envelope = event.envelope(self._region)
            for rule in self._rules:
                if rule.bus != event.bus or not rule.pattern.matches_event(envelope):
                    continue
                payload = json.loads(rule.input) if isinstance(rule.input, str) else envelope
                self._deliver(
                    rule.function_id, payload, f"rule {rule.rule_id} <- {event.detail_type}"
                )
