"""The webhook delivery path of template.yaml (issue 11, docs/webhooks.md "Delivery"):
rule on the service's bus -> encrypted queue with a dead-letter queue and an alarm ->
the delivery function, which reports partial batch failures."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from test_template import TEMPLATE, _CfnLoader


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    with TEMPLATE.open() as fh:
        return dict(yaml.load(fh, Loader=_CfnLoader)["Resources"])  # noqa: S506


def test_the_rule_sends_every_webhook_event_of_the_bus_to_the_queue(
    resources: dict[str, Any],
) -> None:
    rule = resources["WebhookEventsRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "EventBus"}
    names = set(rule["EventPattern"]["detail-type"])
    for model, actions in {
        "user": ("create", "update", "delete"),
        "tenant": ("create", "update", "delete"),
        "session": ("create", "end"),
    }.items():
        assert {f"{model}.{action}" for action in actions} <= names
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": ["WebhookQueue", "Arn"]}]
    policy = resources["WebhookQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "events.amazonaws.com"}


def test_the_queue_is_encrypted_with_a_dead_letter_queue_and_an_alarm(
    resources: dict[str, Any],
) -> None:
    queue = resources["WebhookQueue"]["Properties"]
    dead = resources["WebhookDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and dead["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    function = resources["WebhookDeliveryFunction"]["Properties"]
    assert queue["VisibilityTimeout"] > function["Timeout"]
    alarm = resources["WebhookDeadLetterAlarm"]["Properties"]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["WebhookDeadLetterQueue", "QueueName"]
    }
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0


def test_the_function_reads_the_queue_and_reports_partial_failures(
    resources: dict[str, Any],
) -> None:
    function = resources["WebhookDeliveryFunction"]["Properties"]
    assert function["CodeUri"] == "functions/webhookdelivery/"
    [event] = function["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert function["Environment"]["Variables"]["WEBHOOK_QUEUE_URL"] == {"Ref": "WebhookQueue"}
