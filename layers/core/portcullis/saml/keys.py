"""The workspace's live-mode SAML signing key and self-signed X.509 certificate.

Created on first use (RSA-2048, SHA-256, valid 10 years); the private key is
envelope-encrypted with KMS exactly like JWT keys (`tokens.envelope`), bound to the
workspace by the encryption context. Rotation adds a newer key that signs from then on;
older keys stay in the metadata (both certificates during the overlap) until removed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from portcullis.platform.errors import BadRequest, NotFound
from portcullis.platform.identifiers import TENANT_ID
from portcullis.platform.timefmt import now, now_iso
from portcullis.store import saml as store
from portcullis.store.tenants import TenantItem, get_tenant
from portcullis.tokens import envelope

VALID_YEARS = 10


@dataclass(frozen=True)
class SigningKey:
    kid: str
    certificate_pem: str
    private_key_pem: str
    created_at: str


def workspace_of(tenant: TenantItem) -> str:
    """Keys are per workspace (the root of the tenant's tree)."""
    return tenant.ancestors[-1] if tenant.ancestors else tenant.tenantId


def live_tenant(tenant_id: str) -> TenantItem:
    if not TENANT_ID.match(tenant_id or ""):
        raise NotFound("Tenant not found")
    tenant = get_tenant(store.MODE, tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found")
    return tenant


def _context(workspace_id: str, kid: str) -> str:
    return f"saml:{workspace_id}:{kid}"


def _generate(workspace_id: str) -> store.SamlKeyItem:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Portcullis SAML IdP {workspace_id}"),
        ]
    )
    start = now() - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * VALID_YEARS + 3))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    kid = secrets.token_hex(8)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    sealed = envelope.seal(private_pem, _context(workspace_id, kid))
    return store.new_key_item(
        workspace_id,
        kid,
        now_iso(),
        certificatePem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        encryptedPrivateKey=sealed.ciphertext,
        encryptedDataKey=sealed.encrypted_data_key,
        nonce=sealed.nonce,
    )


def certificates(workspace_id: str) -> list[store.SamlKeyItem]:
    """Every key of the workspace, newest (signing) first; one is created if none."""
    items = store.list_keys(workspace_id)
    if not items:
        # False: a concurrent first use wrote the first key; it is read below.
        store.put_first_key(_generate(workspace_id))
        items = store.list_keys(workspace_id)
    return items


def signing_key(workspace_id: str) -> SigningKey:
    item = certificates(workspace_id)[0]
    sealed = envelope.Sealed(item.encryptedPrivateKey, item.encryptedDataKey, item.nonce)
    private = envelope.open_sealed(sealed, _context(workspace_id, item.kid)).decode()
    return SigningKey(item.kid, item.certificatePem, private, item.createdAt)


def rotate(workspace_id: str) -> store.SamlKeyItem:
    """A new signing key; the previous ones stay published until removed."""
    certificates(workspace_id)
    item = _generate(workspace_id)
    store.put_key(item)
    return item


def remove(workspace_id: str, kid: str) -> None:
    """Remove a key that no longer signs (never the newest)."""
    items = certificates(workspace_id)
    if items[0].kid == kid:
        raise BadRequest("The signing certificate cannot be removed; rotate first")
    for item in items[1:]:
        if item.kid == kid:
            store.delete_key(item)
            return
    raise NotFound("Certificate not found")


def der_base64(pem: str) -> str:
    """The certificate body as metadata and KeyInfo carry it."""
    lines = [line for line in pem.strip().splitlines() if not line.startswith("-----")]
    return "".join(lines)


def fingerprint(pem: str, algorithm: str) -> str:
    der = base64.b64decode(der_base64(pem))
    digest = hashlib.new(algorithm, der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
