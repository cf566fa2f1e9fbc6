"""What the IdP publishes: its URLs per tenant, the metadata document, and the
information an operator copies into an SP (`GET /v0/tenants/{tenantId}/saml/idp`)."""

from __future__ import annotations

from typing import Any

from portcullis.platform import config
from portcullis.saml import keys
from portcullis.saml.sps import BINDING_POST, BINDING_REDIRECT, NAMEID_FORMATS


def base(tenant_id: str) -> str:
    return config.public_url(f"/v0/tenants/{tenant_id}/auth/saml/idp")


def entity_id(tenant_id: str) -> str:
    return f"{base(tenant_id)}/metadata"


def sso_url(tenant_id: str) -> str:
    return f"{base(tenant_id)}/sso"


def slo_url(tenant_id: str) -> str:
    return f"{base(tenant_id)}/slo"


def alias_url(kind: str, tenant_id: str) -> str:
    """concepts §9.1's forms, accepted too: `…/v0/auth/saml/idp/{kind}?tenant_id=`."""
    return config.public_url(f"/v0/auth/saml/idp/{kind}?tenant_id={tenant_id}")


def destinations(tenant_id: str, kind: str) -> set[str]:
    """Every URL of ours an SP may name as `Destination` of a `kind` request."""
    if kind == "login":
        return {sso_url(tenant_id), alias_url("login", tenant_id)}
    return {slo_url(tenant_id), alias_url("logout", tenant_id)}


def info(tenant_id: str) -> dict[str, Any]:
    tenant = keys.live_tenant(tenant_id)
    items = keys.certificates(keys.workspace_of(tenant))
    current = items[0].certificatePem
    return {
        "entityId": entity_id(tenant_id),
        "metadataUrl": entity_id(tenant_id),
        "loginUrl": sso_url(tenant_id),
        "logoutUrl": slo_url(tenant_id),
        "certificate": current,
        "sha1Fingerprint": keys.fingerprint(current, "sha1"),
        "sha256Fingerprint": keys.fingerprint(current, "sha256"),
        "certificates": [
            {
                "kid": item.kid,
                "certificate": item.certificatePem,
                "createdAt": item.createdAt,
                "signing": index == 0,
                "sha1Fingerprint": keys.fingerprint(item.certificatePem, "sha1"),
                "sha256Fingerprint": keys.fingerprint(item.certificatePem, "sha256"),
            }
            for index, item in enumerate(items)
        ],
    }


def metadata(tenant_id: str) -> str:
    """IdP metadata: entity id, every published certificate (signing), SSO and SLO for
    both bindings, NameID formats."""
    # Imported here: of this module's users only the metadata routes build XML; the
    # admin routes (`info`) and the sign-on flows' URLs need no lxml at cold start.
    from lxml import etree
    from onelogin.saml2.constants import OneLogin_Saml2_Constants as C

    tenant = keys.live_tenant(tenant_id)
    items = keys.certificates(keys.workspace_of(tenant))
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    root = etree.Element(
        f"{{{md}}}EntityDescriptor",
        {"entityID": entity_id(tenant_id)},
        nsmap={"md": md, "ds": C.NS_DS},
    )
    idp = etree.SubElement(
        root,
        f"{{{md}}}IDPSSODescriptor",
        {"WantAuthnRequestsSigned": "false", "protocolSupportEnumeration": C.NS_SAMLP},
    )
    for item in items:
        descriptor = etree.SubElement(idp, f"{{{md}}}KeyDescriptor", {"use": "signing"})
        info_node = etree.SubElement(descriptor, f"{{{C.NS_DS}}}KeyInfo")
        data = etree.SubElement(info_node, f"{{{C.NS_DS}}}X509Data")
        cert = etree.SubElement(data, f"{{{C.NS_DS}}}X509Certificate")
        cert.text = keys.der_base64(item.certificatePem)
    for binding in (BINDING_REDIRECT, BINDING_POST):
        etree.SubElement(
            idp,
            f"{{{md}}}SingleLogoutService",
            {"Binding": binding, "Location": slo_url(tenant_id)},
        )
    for urn in NAMEID_FORMATS.values():
        etree.SubElement(idp, f"{{{md}}}NameIDFormat").text = urn
    for binding in (BINDING_REDIRECT, BINDING_POST):
        etree.SubElement(
            idp,
            f"{{{md}}}SingleSignOnService",
            {"Binding": binding, "Location": sso_url(tenant_id)},
        )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).decode()
