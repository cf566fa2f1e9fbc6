"""The answers of the public key and signing-key rotation routes (api-client §12,
docs/keyrotation.md) as pydantic models, for the OpenAPI document (docs/openapi.md):
documentation only, checked by the tests against live answers
(`tests/api/conformance.py`)."""

from __future__ import annotations

from typing import Literal

from portcullis.platform.outputs import Answer, Done, Page


class Jwk(Answer):
    """One RSA public key of the JWKS (RFC 7517)."""

    kty: Literal["RSA"]
    kid: str
    alg: str
    use: str
    n: str
    e: str


class KeySet(Answer):
    keys: list[Jwk]


class PublicKey(Answer):
    """A signing key as listed (`jwks.public_keys`): its public half only."""

    kid: str
    tenantId: str
    mode: Literal["test", "live"]
    algorithm: str
    isActive: bool
    createdAt: str
    publicKey: str
    publicKeyBase64: str


class RotatedKey(PublicKey):
    """The key a rotation added, and when it starts to sign."""

    activatesAt: str


# The generic answers, parametrized here (pydantic needs the defining module in
# `sys.modules`) and named for their references (`responses.py`).
PublicKeyPage = Page[PublicKey]
PublicKeyDone = Done[PublicKey]
