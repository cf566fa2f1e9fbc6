"""Webhook headers and signatures (`portcullis.webhooks.signing`, concepts §5.3)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from portcullis.webhooks import signing

ID = "6f2a53a4-7e0b-4a5c-9d3e-2f1c0b8a7d61"
TS = 1_733_555_000
BODY = b'{"action":"create","model":"user","mode":"test","record":{"userId":1}}'
CURRENT = "whsec_" + "a" * 64
PREVIOUS = "whsec_" + "b" * 64


def test_the_signature_is_hmac_sha256_over_id_timestamp_and_raw_body() -> None:
    expected = hmac.new(CURRENT.encode(), f"{ID}.{TS}.".encode() + BODY, hashlib.sha256)
    headers = signing.headers(ID, TS, BODY, [CURRENT], None)
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": "Portcullis-Webhooks/1.0",
        "X-Webhook-Id": ID,
        "X-Webhook-Timestamp": str(TS),
        "X-Webhook-Signature": f"v1={expected.hexdigest()}",
    }


def test_the_bearer_key_is_sent_when_there_is_one() -> None:
    key = "uf_test_webhook_demo1234_" + "0" * 32
    headers = signing.headers(ID, TS, BODY, [CURRENT], key)
    assert headers["Authorization"] == f"Bearer {key}"


def test_during_the_overlap_both_secrets_sign_and_each_verifies() -> None:
    header = signing.headers(ID, TS, BODY, [CURRENT, PREVIOUS], None)["X-Webhook-Signature"]
    assert header.count("v1=") == 2
    assert header.split(",")[0] == f"v1={signing.signature(ID, TS, BODY, CURRENT)}"
    assert signing.verify(header, ID, TS, BODY, CURRENT)
    assert signing.verify(header, ID, str(TS), BODY, PREVIOUS)
    assert not signing.verify(header, ID, TS, BODY, "whsec_" + "c" * 64)


@pytest.mark.parametrize(
    ("webhook_id", "timestamp", "body"),
    [
        ("another-id", TS, BODY),  # replayed as another event
        (ID, TS + 1, BODY),  # replayed later
        (ID, TS, BODY.replace(b'"userId":1', b'"userId":2')),  # tampered body
        (ID, TS, BODY + b" "),  # any byte counts: the raw body, not its JSON
    ],
)
def test_any_change_breaks_the_signature(webhook_id: str, timestamp: int, body: bytes) -> None:
    header = signing.headers(ID, TS, BODY, [CURRENT], None)["X-Webhook-Signature"]
    assert not signing.verify(header, webhook_id, timestamp, body, CURRENT)


@pytest.mark.parametrize(
    "header", ["", "v1=", "v0=" + "0" * 64, "garbage", "v1=zz,v1=", "v2=" + "0" * 64]
)
def test_malformed_headers_do_not_verify(header: str) -> None:
    assert not signing.verify(header, ID, TS, BODY, CURRENT)
    assert not signing.verify(header, ID, "not-a-number", BODY, CURRENT)


def test_a_webhook_is_never_sent_unsigned() -> None:
    with pytest.raises(ValueError):
        signing.headers(ID, TS, BODY, [], None)
