"""The assertion per SP configuration (concepts §9.1), checked by python3-saml as the SP:
each NameID format, the signing flags, the attribute names, and what the SP refuses.
No AWS: the signing key is made here (`keys._generate` seals it with KMS; the protocol
layer only needs the PEMs)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import trustme
from onelogin.saml2.auth import OneLogin_Saml2_Auth

from portcullis.saml import protocol
from portcullis.saml.keys import SigningKey, fingerprint
from portcullis.saml.sps import SpFields

IDP = "https://idp.example.com/v0/tenants/abcdefgh/auth/saml/idp/metadata"
USER = {
    "email": "ada@example.com",
    "name": "Ada",
    "username": "ada",
    "userUuid": "6f1c7d4e-1d7e-4f0c-9a4e-3b0f7d0b9c11",
    "userId": 7,
    "tenantId": "abcdefgh",
    "phoneNumber": None,
    "roles": ["admin", "member"],
}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    """The IdP's RSA signing key and certificate, made by trustme (test certificates)."""
    leaf = trustme.CA().issue_cert("idp", common_name="idp", key_type=trustme.KeyType.RSA)
    cert, private = leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()
    return SigningKey("k1", cert.decode(), private.decode(), "2026-01-01T00:00:00Z")


def _sp(**fields: Any) -> SpFields:
    return SpFields.model_validate(
        {
            "name": "SP",
            "entityId": "https://sp.example.com/metadata",
            "acsUrl": "https://sp.example.com/acs",
            **fields,
        }
    )


def _process(document: str, key: SigningKey, *, want_assertion: bool, want_message: bool):
    settings = {
        "strict": True,
        "sp": {
            "entityId": "https://sp.example.com/metadata",
            "assertionConsumerService": {"url": "https://sp.example.com/acs"},
        },
        "idp": {
            "entityId": IDP,
            "singleSignOnService": {"url": "https://idp.example.com/sso"},
            "x509cert": key.certificate_pem,
        },
        "security": {
            "wantAssertionsSigned": want_assertion,
            "wantMessagesSigned": want_message,
            "rejectDeprecatedAlgorithm": True,
        },
    }
    request = {
        "https": "on",
        "http_host": "sp.example.com",
        "script_name": "/acs",
        "get_data": {},
        "post_data": {"SAMLResponse": base64.b64encode(document.encode()).decode()},
    }
    auth = OneLogin_Saml2_Auth(request, old_settings=settings)
    auth.process_response()
    return auth


@pytest.mark.parametrize(
    ("format_name", "expected"),
    [("emailAddress", USER["email"]), ("persistent", USER["userUuid"]), ("unspecified", "ada")],
)
def test_name_id_formats(key: SigningKey, format_name: str, expected: str) -> None:
    document = protocol.build_response(
        issuer=IDP,
        sp=_sp(nameIdFormat=format_name),
        user=USER,
        session_id="s-1",
        in_response_to=None,
        key=key,
    )
    auth = _process(document, key, want_assertion=True, want_message=True)
    assert auth.get_errors() == [], auth.get_last_error_reason()
    assert auth.get_nameid() == expected
    assert auth.get_nameid_format().endswith(format_name)
    assert auth.get_session_index() == "s-1"
    attributes = auth.get_attributes()
    assert attributes["roles"] == ["admin", "member"] and "phoneNumber" not in attributes


@pytest.mark.parametrize(
    ("sign_assertion", "sign_response"), [(True, False), (False, True), (True, True)]
)
def test_signing_flags(key: SigningKey, sign_assertion: bool, sign_response: bool) -> None:
    document = protocol.build_response(
        issuer=IDP,
        sp=_sp(
            signAssertion=sign_assertion,
            signResponse=sign_response,
            attributeMapping={"email": "mail"},
        ),
        user=USER,
        session_id="s",
        in_response_to=None,
        key=key,
    )
    accepted = _process(document, key, want_assertion=sign_assertion, want_message=sign_response)
    assert accepted.get_errors() == [], accepted.get_last_error_reason()
    assert accepted.get_attributes()["mail"] == [USER["email"]]
    # An SP that wants the signature we did not make refuses.
    stricter = _process(document, key, want_assertion=True, want_message=True)
    assert (stricter.get_errors() == []) == (sign_assertion and sign_response)


def test_fingerprint_format(key: SigningKey) -> None:
    sha256 = fingerprint(key.certificate_pem, "sha256")
    assert len(sha256.split(":")) == 32 and sha256 == sha256.upper()
