"""python3-saml (OneLogin's toolkit) as a REAL service provider of our IdP, for the SAML
tests: settings built from our published metadata, and the browser dance driven over
HTTP the way a browser would (cookie, redirects, auto-posted forms)."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import trustme
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser


def key_pair(name: str = "sp.example.com") -> tuple[str, str]:
    """(certificate PEM, private key PEM) of an SP signing certificate, from trustme (made
    for test certificates): RSA, as the signatures here are RSA-SHA256. SAML uses only the
    certificate's key, not who issued it, so trustme's own test CA issuing it is fine."""
    leaf = trustme.CA().issue_cert(name, common_name=name, key_type=trustme.KeyType.RSA)
    return leaf.cert_chain_pems[0].bytes().decode(), leaf.private_key_pem.bytes().decode()


@dataclass
class Sp:
    """One SP: its entity id, URLs, keys and the python3-saml settings dict."""

    host: str = field(default_factory=lambda: f"sp-{uuid.uuid4().hex[:8]}.example.com")
    cert: str = ""
    key: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        return f"https://{self.host}/metadata"

    @property
    def acs(self) -> str:
        return f"https://{self.host}/acs"

    @property
    def sls(self) -> str:
        return f"https://{self.host}/sls"

    def configure(self, idp_metadata: str, *, signed: bool = True) -> None:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(
            idp_metadata,
            required_sso_binding=C.BINDING_HTTP_REDIRECT,
            required_slo_binding=C.BINDING_HTTP_REDIRECT,
        )
        merged = OneLogin_Saml2_IdPMetadataParser.merge_settings(
            {
                "strict": True,
                "sp": {
                    "entityId": self.entity_id,
                    "assertionConsumerService": {"url": self.acs, "binding": C.BINDING_HTTP_POST},
                    "singleLogoutService": {"url": self.sls, "binding": C.BINDING_HTTP_REDIRECT},
                    "NameIDFormat": C.NAMEID_EMAIL_ADDRESS,
                    "x509cert": self.cert,
                    "privateKey": self.key,
                },
            },
            idp,
        )
        # Our metadata says WantAuthnRequestsSigned="false" (only SPs that register a
        # certificate must sign), which the parser copies into `security`: set it after.
        merged["security"].update(
            {
                "authnRequestsSigned": signed,
                "logoutRequestSigned": signed,
                "wantAssertionsSigned": True,
                "wantMessagesSigned": True,
                "signatureAlgorithm": C.RSA_SHA256,
                "digestAlgorithm": C.SHA256,
                "rejectDeprecatedAlgorithm": True,
            }
        )
        self.settings = merged

    def auth(
        self,
        path: str = "/acs",
        post: dict[str, str] | None = None,
        get: dict[str, str] | None = None,
    ) -> OneLogin_Saml2_Auth:
        """The toolkit fed request data the way its docs show (`prepare_request`)."""
        request = {
            "https": "on",
            "http_host": self.host,
            "script_name": path,
            "get_data": get or {},
            "post_data": post or {},
        }
        return OneLogin_Saml2_Auth(request, old_settings=self.settings)

    def metadata(self) -> str:
        return (
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'entityID="{self.entity_id}"><md:SPSSODescriptor '
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo '
            'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>'
            + "".join(self.cert.strip().splitlines()[1:-1])
            + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{self.sls}"/>'
            "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
            "</md:NameIDFormat>"
            '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            f'Location="{self.acs}" index="1"/></md:SPSSODescriptor></md:EntityDescriptor>'
        )


def pending_cookie(response: httpx.Response, tenant_id: str) -> str:
    """`uf_saml.{tenant}=…` as a browser would send it back (Secure cookies are not kept
    by httpx over plain http, so the tests carry it by hand)."""
    header = response.headers["set-cookie"]
    match = re.match(rf"uf_saml\.{tenant_id}=([^;]+);", header)
    assert match, header
    assert "HttpOnly" in header and "Secure" in header and "SameSite=Lax" in header
    return f"uf_saml.{tenant_id}={match.group(1)}"


def redirect_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """(action, fields) of our auto-submitting form."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action, page
    fields = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }
    return html.unescape(action.group(1)), fields
