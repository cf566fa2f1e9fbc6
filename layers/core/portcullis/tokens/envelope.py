"""Envelope encryption with KMS: a fresh AES-256-GCM data key per secret.

Used for secrets that must be recoverable (JWT private keys, TOTP secrets). The
associated data binds each ciphertext to its owner, so a ciphertext copied onto
another tenant's item fails to decrypt.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from portcullis.platform import aws, config

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class Sealed(NamedTuple):
    ciphertext: str
    encrypted_data_key: str
    nonce: str

    def stored(self) -> dict[str, str]:
        """The mapping an item keeps in one JSON attribute (outbox payloads, import
        chunks, webhook message bodies): one spelling of its keys for every writer."""
        return {
            "ciphertext": self.ciphertext,
            "encryptedDataKey": self.encrypted_data_key,
            "nonce": self.nonce,
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> Sealed:
        """The secret back from the mapping `stored()` made."""
        return cls(stored["ciphertext"], stored["encryptedDataKey"], stored["nonce"])


def seal(plaintext: bytes, context: str) -> Sealed:
    kms = aws.client("kms")
    data_key = kms.generate_data_key(
        KeyId=config.kms_key_id(), KeySpec="AES_256", EncryptionContext={"context": context}
    )
    nonce = os.urandom(12)
    ciphertext = _aesgcm(data_key["Plaintext"]).encrypt(nonce, plaintext, context.encode())
    return Sealed(
        ciphertext=base64.b64encode(ciphertext).decode(),
        encrypted_data_key=base64.b64encode(data_key["CiphertextBlob"]).decode(),
        nonce=base64.b64encode(nonce).decode(),
    )


def open_sealed(sealed: Sealed, context: str) -> bytes:
    kms = aws.client("kms")
    data_key = kms.decrypt(
        CiphertextBlob=base64.b64decode(sealed.encrypted_data_key),
        EncryptionContext={"context": context},
    )["Plaintext"]
    return _aesgcm(data_key).decrypt(
        base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), context.encode()
    )


def _aesgcm(key: bytes) -> AESGCM:
    """cryptography is imported on first use (as in tokens.py): most functions import this
    module through `tokens` but never seal or open a secret, and its import costs ~7 ms
    of every cold start (docs/performance.md "Cold start")."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)
