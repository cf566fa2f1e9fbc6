"""The §5.5 message schedule (docs/webhooks.md "Message-delivery webhooks"): 3 attempts
within 2 minutes, jitter included, and the shortened schedule of the local tests."""

from __future__ import annotations

import pytest

from portcullis.webhooks import delivery


def test_three_attempts_within_two_minutes_even_at_the_top_of_the_jitter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEBHOOK_RETRY_DELAYS", raising=False)
    delays = delivery.message_retry_delays()
    assert len(delays) == 2  # a first attempt and two retries
    assert sum(round(d * (1 + delivery.JITTER)) for d in delays) < 120


def test_a_shortened_event_schedule_shortens_messages_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "1,2,3,4,5,6,7")
    assert delivery.message_retry_delays() == (1, 2)
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "3")
    assert delivery.message_retry_delays() == (3, 3)
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "not,numbers")
    assert delivery.message_retry_delays() == delivery.MESSAGE_RETRY_DELAYS


def test_message_deliveries_are_listed_but_never_taken_from_eventbridge() -> None:
    assert delivery.MESSAGE_EVENT in delivery.LISTED_EVENTS
    assert delivery.MESSAGE_EVENT not in delivery.DETAIL_TYPES
    assert delivery.handle_event({"webhookId": "x", "mode": "test"}, "message.send") is None
