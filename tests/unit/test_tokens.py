"""Signing keys, RS256 signing and the verification allow-list (RFC 8725)."""

import base64
import json
import time

import jwt
import pytest

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


def test_alg_none_and_hs256_are_refused(tenant) -> None:
    unsigned = jwt.encode(claims(tenant.tenantId), None, algorithm="none")
    with pytest.raises(Unauthorized):
        tokens.verify(unsigned)
    key = tokens.published_keys(tenant.tenantId, "test", 3600)[0]
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode()
    ).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims(tenant.tenantId)).encode()).rstrip(b"=")
    with pytest.raises(Unauthorized):
        tokens.verify(f"{header.decode()}.{body.decode()}.c2ln")


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


@pytest.mark.parametrize("claimed", ["x" * 5000, "UPPERCASE", "../../etc", ""])
def test_malformed_tenant_claim_is_refused_before_any_lookup(tenant, claimed: str) -> None:
    token = tokens.sign(tenant.tenantId, "test", {**claims(tenant.tenantId), "tenantId": claimed})
    with pytest.raises(Unauthorized):
        tokens.verify(token)
