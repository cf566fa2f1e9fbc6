"""Signing keys, RS256 signing and the verification allow-list (RFC 8725)."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from infra.local import calltrace
from portcullis.platform.errors import Unauthorized
from portcullis.tenants import service as tenants
from portcullis.tokens import signing as tokens


@pytest.fixture(scope="module")
def tenant(aws: str):
    return tenants.create("test", "Token tests")


def claims(tenant_id: str, seconds: int = 60) -> dict:
    now = int(time.time())
    return {"mode": "test", "tenantId": tenant_id, "userId": 1, "iat": now, "exp": now + seconds}


def test_sign_and_verify_round_trip(tenant) -> None:
    token = tokens.sign(tenant.tenantId, "test", claims(tenant.tenantId))
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["typ"] == "JWT"
    verified = tokens.verify(token)
    assert verified.claims["userId"] == 1
    assert verified.kid == header["kid"]


def test_jwks_verifies_with_pyjwt(tenant) -> None:
    token = tokens.sign(tenant.tenantId, "test", claims(tenant.tenantId))
    key = tokens.published_keys(tenant.tenantId, "test", 3600)[0]
    jwk = jwt.PyJWK(tokens.jwk(key))
    decoded = jwt.decode(token, jwk.key, algorithms=["RS256"])
    assert decoded["tenantId"] == tenant.tenantId


def test_expired_token_is_refused(tenant) -> None:
    token = tokens.sign(tenant.tenantId, "test", claims(tenant.tenantId, seconds=-60))
    with pytest.raises(Unauthorized):
        tokens.verify(token)
    assert tokens.verify(token, verify_exp=False).claims["userId"] == 1


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hs256(header: dict, payload: dict, secret: bytes) -> str:
    """An HS256 JWT built by hand: PyJWT refuses a PEM as an HMAC key (InvalidKeyError)."""
    signing_input = (
        f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(mac)}"


def test_alg_none_is_refused(tenant) -> None:
    unsigned = jwt.encode(claims(tenant.tenantId), None, algorithm="none")
    with pytest.raises(Unauthorized):
        tokens.verify(unsigned)


@pytest.mark.parametrize("trailing_newline", [True, False], ids=["pem", "pem-stripped"])
def test_hs256_signed_with_the_public_key_pem_is_refused(tenant, trailing_newline: bool) -> None:
    """Algorithm confusion (RFC 8725 §2.1): the attacker knows the public key and signs
    HS256 with its PEM as the HMAC secret, hoping the verifier feeds the same key bytes to
    HMAC. The token names the real kid and carries valid claims; only `alg` is wrong."""
    key = tokens.published_keys(tenant.tenantId, "test", 3600)[0]
    pem = key.publicKeyPem if trailing_newline else key.publicKeyPem.rstrip("\n")
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    forged = hs256(header, claims(tenant.tenantId), pem.encode())
    # The forgery is the real attack: HMAC-SHA256 under the PEM's bytes (PyJWT's own
    # HMAC, past the key check that a confused verifier lacks) accepts its signature.
    signing_input, signature = forged.rsplit(".", 1)
    confused = HMACAlgorithm(HMACAlgorithm.SHA256)
    assert confused.verify(signing_input.encode(), pem.encode(), _unb64url(signature))
    # ...and the same claims signed properly do verify, so the refusal is about `alg`.
    assert tokens.verify(tokens.sign(tenant.tenantId, "test", claims(tenant.tenantId)))
    with pytest.raises(Unauthorized):
        tokens.verify(forged)


def test_token_of_another_tenant_or_mode_is_refused(tenant) -> None:
    other = tenants.create("test", "Other")
    token = tokens.sign(other.tenantId, "test", claims(other.tenantId))
    with pytest.raises(Unauthorized):
        tokens.verify(token, tenant_id=tenant.tenantId)
    with pytest.raises(Unauthorized):
        tokens.verify(token, mode="live")


def test_forged_tenant_claim_does_not_verify(tenant) -> None:
    other = tenants.create("test", "Forger")
    token = tokens.sign(other.tenantId, "test", claims(tenant.tenantId))
    with pytest.raises(Unauthorized):
        tokens.verify(token)


def test_private_key_is_stored_encrypted(tenant) -> None:
    key = tokens.published_keys(tenant.tenantId, "test", 3600)[0]
    stored = json.dumps(key.attribute_values, default=str)
    assert "PRIVATE KEY" not in stored
    assert "BEGIN PUBLIC KEY" in key.publicKeyPem
    ciphertext = base64.b64decode(key.encryptedPrivateKey)
    assert b"PRIVATE KEY" not in ciphertext


def _aws_calls_of(action: Callable[[], None]) -> list[str]:
    """The AWS calls (every botocore client, pynamodb's included) `action` makes on this
    thread, counted by the local runtime's tracer (infra/local/calltrace.py)."""
    calltrace.install()
    request_id = f"unit-{uuid.uuid4()}"
    with calltrace.recording(request_id):
        action()
    return calltrace.calls_of(request_id) or []


def _refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        tokens.verify(token)


@pytest.mark.parametrize("claimed", ["x" * 5000, "UPPERCASE", "../../etc", ""])
def test_malformed_tenant_claim_is_refused_before_any_lookup(tenant, claimed: str) -> None:
    token = tokens.sign(tenant.tenantId, "test", {**claims(tenant.tenantId), "tenantId": claimed})
    assert _aws_calls_of(lambda: _refused(token)) == []


def test_a_well_formed_unknown_tenant_claim_costs_one_key_set_query(tenant) -> None:
    """The counter sees the store: the same kind of token with a well-formed tenant id
    that no cache holds reads that tenant's key set (and is refused: no such key)."""
    unknown = f"u{uuid.uuid4().hex[:7]}"
    token = tokens.sign(tenant.tenantId, "test", {**claims(tenant.tenantId), "tenantId": unknown})
    assert _aws_calls_of(lambda: _refused(token)) == ["dynamodb:Query"]


def test_a_sealed_secret_is_stored_under_the_keys_items_already_hold(aws: str) -> None:
    """Outbox payloads, import chunks and webhook message bodies keep a sealed secret as
    one mapping: its keys are data already in tables, and it opens again from them."""
    from portcullis.tokens import envelope

    sealed = envelope.seal(b"the secret", "test:context")
    stored = sealed.stored()
    assert stored == {
        "ciphertext": sealed.ciphertext,
        "encryptedDataKey": sealed.encrypted_data_key,
        "nonce": sealed.nonce,
    }
    reopened = envelope.Sealed.from_stored(json.loads(json.dumps(stored)))
    assert reopened == sealed
    assert envelope.open_sealed(reopened, "test:context") == b"the secret"
