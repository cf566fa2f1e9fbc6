"""The pure parts of passthrough migration (auth/passthrough.py): the body template,
how an upstream answer is judged, and Cognito's SECRET_HASH."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from portcullis.auth import passthrough
from portcullis.auth.passthroughconfig import DEFAULTS, Stored
from portcullis.platform.digests import secret_digest


def _stored(**settings: object) -> Stored:
    return Stored("test", "t1", {**DEFAULTS, **settings})


def test_values_are_inserted_as_text_and_cannot_change_the_document() -> None:
    template = {"u": "{{ email }}", "p": "{{password}}", "n": [1, {"x": "a{{username}}b"}]}
    hostile = '", "admin": true, "x": "\\'
    filled = {"email": "a@example.com", "password": hostile, "username": "{{password}}"}
    document = passthrough.render(template, filled)
    assert document == {"u": "a@example.com", "p": hostile, "n": [1, {"x": "a{{password}}b"}]}
    assert json.loads(json.dumps(document))["p"] == hostile


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429, 301, 302, 101])
def test_no_usable_answer_is_unreachable(status: int) -> None:
    with pytest.raises(passthrough.Unreachable):
        passthrough._judge(_stored(), status, b'{"ok": true}')


def test_success_needs_the_status_and_the_passback_code() -> None:
    plain = _stored()
    assert passthrough._judge(plain, 204, b"").accepted
    assert not passthrough._judge(_stored(successStatus=[201]), 200, b"{}").accepted
    guarded = _stored()
    guarded.passback_digest = secret_digest("pbc-1")
    assert passthrough._judge(guarded, 200, b'{"passbackCode": "pbc-1"}').accepted
    for body in (b"{}", b'{"passbackCode": "pbc-2"}', b'{"passbackCode": null}', b"[]", b"x"):
        answer = passthrough._judge(guarded, 200, body)
        assert not answer.accepted and answer.message == passthrough.INCORRECT


def test_a_refusal_shows_the_message_at_the_path_made_safe() -> None:
    stored = _stored(messagePath="error.detail")
    body = json.dumps({"error": {"detail": "Bad\u0000 password\n\tnow " + "x" * 400}}).encode()
    message = passthrough._judge(stored, 401, body).message
    assert message.startswith("Bad password now x") and len(message) == 300
    for other in (b'{"error": {"detail": 5}}', b'{"message": "top"}', b"not json", b""):
        assert passthrough._judge(stored, 400, other).message == passthrough.INCORRECT


def test_secret_hash_is_cognitos_formula() -> None:
    """Base64(HMAC-SHA256(clientSecret, username + clientId)), as AWS documents it
    (moto does not check SECRET_HASH, so the formula is pinned here)."""
    expected = base64.b64encode(
        hmac.new(b"s3cr3t", b"jane@example.com" + b"client123", hashlib.sha256).digest()
    ).decode()
    assert passthrough.secret_hash("jane@example.com", "client123", "s3cr3t") == expected
