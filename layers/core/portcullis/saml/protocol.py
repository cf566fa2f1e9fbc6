"""SAML messages in and out.

In: an AuthnRequest or LogoutRequest (HTTP-Redirect or HTTP-POST binding) is decoded
with a size cap, parsed by `xmlsafe`, and checked: the issuer is a registered, active SP
of the tenant; the ACS URL and protocol binding, when the request names them, match the
registration; `IssueInstant` is recent; `Destination`, when present, is one of our URLs;
and when the SP registered a certificate the request must be signed by it — the query
signature (Redirect) or one enveloped signature on the root element whose reference is
the root's own ID (POST; a second element with that ID, i.e. a wrapping attempt, is
refused). Only the verified root is read afterwards.

Out: the Response (assertion per concepts §9.1) and the LogoutResponse, built with lxml
and signed with `OneLogin_Saml2_Utils.add_sign` (RSA-SHA256, exclusive C14N).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import xmlsec
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils as Utils

from portcullis.platform.errors import BadRequest
from portcullis.platform.timefmt import now, parse_iso
from portcullis.saml import xmlsafe
from portcullis.saml.keys import SigningKey
from portcullis.saml.sps import BINDING_POST, NAMEID_FORMATS, SpFields

NS = {"samlp": C.NS_SAMLP, "saml": C.NS_SAML, "ds": C.NS_DS}
SIG_ALGORITHMS = {C.RSA_SHA256, C.RSA_SHA384, C.RSA_SHA512}
MAX_AGE = timedelta(minutes=10)
MAX_SKEW = timedelta(minutes=3)
NOT_BEFORE_SKEW = timedelta(seconds=60)
ASSERTION_LIFETIME = timedelta(minutes=5)
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
PASSWORD_TRANSPORT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
ATTR_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"


class RefusedRequest(BadRequest):
    """An SP request we do not act on; the message names the check that failed."""


@dataclass(frozen=True)
class Incoming:
    kind: str  # "login" | "logout"
    request_id: str
    issuer: str
    name_id: str | None
    session_index: str | None


def _saml_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    """XML IDs must not start with a digit."""
    return "_" + secrets.token_hex(20)


def _signed_query(params: dict[str, str]) -> list[str]:
    """The byte strings an SP may have signed: the parameters in the SAML order,
    encoded as python3-saml and most SPs encode them (upper- and lower-case escapes)."""
    parts = []
    for name in ("SAMLRequest", "RelayState", "SigAlg"):
        if name in params:
            parts.append((name, params[name]))
    upper = "&".join(f"{k}={quote_plus(v)}" for k, v in parts)
    lower = "&".join(f"{k}={Utils.escape_url(v, lowercase_urlencoding=True)}" for k, v in parts)
    return [upper] if upper == lower else [upper, lower]


def _check_redirect_signature(params: dict[str, str], certificate: str) -> None:
    signature, algorithm = params.get("Signature"), params.get("SigAlg")
    if not signature or not algorithm:
        raise RefusedRequest("The SAML request must be signed")
    if algorithm not in SIG_ALGORITHMS:
        raise RefusedRequest("Unsupported signature algorithm")
    try:
        raw = Utils.b64decode(signature)
    except ValueError:
        raise RefusedRequest("Invalid SAML request signature") from None
    if not any(
        Utils.validate_binary_sign(q, raw, certificate, algorithm) for q in _signed_query(params)
    ):
        raise RefusedRequest("Invalid SAML request signature")


def _check_post_signature(root: Any, certificate: str) -> None:
    """Exactly one signature, a child of the root, over the root itself (by its ID)."""
    signatures = root.findall(".//ds:Signature", NS)
    direct = root.findall("ds:Signature", NS)
    if not signatures:
        raise RefusedRequest("The SAML request must be signed")
    if len(signatures) != 1 or len(direct) != 1:
        raise RefusedRequest("The SAML request must carry exactly one signature")
    root_id = root.get("ID")
    references = direct[0].findall("ds:SignedInfo/ds:Reference", NS)
    if len(references) != 1 or references[0].get("URI") != f"#{root_id}":
        raise RefusedRequest("Invalid SAML request signature")
    if len(root.xpath("//*[@ID=$id]", id=root_id)) != 1:
        raise RefusedRequest("Invalid SAML request signature")
    method = direct[0].find("ds:SignedInfo/ds:SignatureMethod", NS)
    if method is None or method.get("Algorithm") not in SIG_ALGORITHMS:
        raise RefusedRequest("Unsupported signature algorithm")
    xmlsec.tree.add_ids(root, ["ID"])
    if not Utils.validate_node_sign(direct[0], root, certificate, raise_exceptions=False):
        raise RefusedRequest("Invalid SAML request signature")


def read_request(
    params: dict[str, str],
    *,
    binding: str,
    kind: str,
    destinations: set[str],
    lookup: Any,
) -> tuple[Incoming, str, SpFields]:
    """Decode, parse and check an SP request; returns it with the SP's id and fields.

    `lookup(entity_id)` returns `(sp_id, fields)` of the tenant's active SP or None.
    """
    value = params.get("SAMLRequest")
    if not value:
        raise RefusedRequest('"SAMLRequest" is required')
    raw = xmlsafe.decode_redirect(value) if binding == "redirect" else xmlsafe.decode_post(value)
    root = xmlsafe.parse(raw)
    expected = "AuthnRequest" if kind == "login" else "LogoutRequest"
    if root.tag != f"{{{C.NS_SAMLP}}}{expected}":
        raise RefusedRequest(f"Expected a samlp:{expected}")
    request_id = root.get("ID")
    if not request_id or len(request_id) > 256 or root.get("Version") != "2.0":
        raise RefusedRequest("The SAML request needs an ID and Version 2.0")
    issued = root.get("IssueInstant") or ""
    try:
        instant = parse_iso(issued)
    except (ValueError, OverflowError):
        raise RefusedRequest("Invalid IssueInstant") from None
    current = now()
    if instant < current - MAX_AGE or instant > current + MAX_SKEW:
        raise RefusedRequest("The SAML request has expired")
    issuers = root.findall("saml:Issuer", NS)
    issuer = (issuers[0].text or "").strip() if len(issuers) == 1 else ""
    found = lookup(issuer) if issuer else None
    if found is None:
        raise RefusedRequest("Unknown service provider")
    sp_id, sp = found
    destination = root.get("Destination")
    if destination is not None and destination not in destinations:
        raise RefusedRequest("The SAML request is for another destination")
    if sp.spCertificate:
        if binding == "redirect":
            _check_redirect_signature(params, sp.spCertificate)
        else:
            _check_post_signature(root, sp.spCertificate)
    name_id = session_index = None
    if kind == "login":
        acs = root.get("AssertionConsumerServiceURL")
        if acs is not None and acs != sp.acsUrl:
            raise RefusedRequest("AssertionConsumerServiceURL does not match the registration")
        binding_used = root.get("ProtocolBinding")
        if binding_used is not None and binding_used != BINDING_POST:
            raise RefusedRequest("Only the HTTP-POST binding is supported for responses")
    else:
        if not sp.logoutUrl:
            raise RefusedRequest("The service provider has no logout URL")
        node = root.find("saml:NameID", NS)
        name_id = node.text if node is not None else None
        index = root.find("samlp:SessionIndex", NS)
        session_index = index.text if index is not None else None
    return Incoming(kind, request_id, issuer, name_id, session_index), sp_id, sp


# -- outgoing ---------------------------------------------------------------------------


def _el(parent: Any, ns: str, tag: str, text: str | None = None, **attrs: str) -> Any:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def _root(ns: str, tag: str, **attrs: str) -> Any:
    return etree.Element(f"{{{ns}}}{tag}", attrs, nsmap={"samlp": C.NS_SAMLP, "saml": C.NS_SAML})


def _success(
    tag: str, *, issuer: str, destination: str, in_response_to: str | None, at: str
) -> Any:
    """A successful StatusResponseType (SAML core §3.2.2), the common part of Response and
    LogoutResponse: root attributes, Issuer and a Success status."""
    extra = {"InResponseTo": in_response_to} if in_response_to else {}
    response = _root(
        C.NS_SAMLP,
        tag,
        ID=new_id(),
        Version="2.0",
        IssueInstant=at,
        Destination=destination,
        **extra,
    )
    _el(response, C.NS_SAML, "Issuer", issuer)
    status = _el(response, C.NS_SAMLP, "Status")
    _el(status, C.NS_SAMLP, "StatusCode", Value=SUCCESS)
    return response


def _sign(node: Any, key: SigningKey) -> Any:
    signed = Utils.add_sign(
        etree.tostring(node),
        key.private_key_pem,
        key.certificate_pem,
        sign_algorithm=C.RSA_SHA256,
        digest_algorithm=C.SHA256,
    )
    return xmlsafe.parse(signed, limit=1024 * 1024)


def name_id_value(sp: SpFields, user: dict[str, Any]) -> str:
    if sp.nameIdFormat == "persistent":
        return str(user["userUuid"])
    if sp.nameIdFormat == "unspecified":
        return str(user.get("username") or user["userUuid"])
    return str(user.get("email") or user["userUuid"])


def build_response(
    *,
    issuer: str,
    sp: SpFields,
    user: dict[str, Any],
    session_id: str,
    in_response_to: str | None,
    key: SigningKey,
) -> str:
    """The signed SAMLResponse document (XML text) for `user` at `sp`."""
    at = now()
    issue = _saml_time(at)
    extra = {"InResponseTo": in_response_to} if in_response_to else {}
    response = _success(
        "Response", issuer=issuer, destination=sp.acsUrl, in_response_to=in_response_to, at=issue
    )

    assertion = etree.Element(
        f"{{{C.NS_SAML}}}Assertion",
        {"ID": new_id(), "Version": "2.0", "IssueInstant": issue},
        nsmap={"saml": C.NS_SAML, "xs": XS, "xsi": XSI},
    )
    _el(assertion, C.NS_SAML, "Issuer", issuer)
    subject = _el(assertion, C.NS_SAML, "Subject")
    _el(
        subject,
        C.NS_SAML,
        "NameID",
        name_id_value(sp, user),
        Format=NAMEID_FORMATS[sp.nameIdFormat],
    )
    confirmation = _el(subject, C.NS_SAML, "SubjectConfirmation", Method=C.CM_BEARER)
    _el(
        confirmation,
        C.NS_SAML,
        "SubjectConfirmationData",
        NotOnOrAfter=_saml_time(at + ASSERTION_LIFETIME),
        Recipient=sp.acsUrl,
        **extra,
    )
    conditions = _el(
        assertion,
        C.NS_SAML,
        "Conditions",
        NotBefore=_saml_time(at - NOT_BEFORE_SKEW),
        NotOnOrAfter=_saml_time(at + ASSERTION_LIFETIME),
    )
    restriction = _el(conditions, C.NS_SAML, "AudienceRestriction")
    _el(restriction, C.NS_SAML, "Audience", sp.entityId)
    authn = _el(assertion, C.NS_SAML, "AuthnStatement", AuthnInstant=issue, SessionIndex=session_id)
    context = _el(authn, C.NS_SAML, "AuthnContext")
    _el(context, C.NS_SAML, "AuthnContextClassRef", PASSWORD_TRANSPORT)
    statement = _el(assertion, C.NS_SAML, "AttributeStatement")
    for name, values in attribute_values(user):
        attribute = _el(
            statement,
            C.NS_SAML,
            "Attribute",
            Name=sp.attributeMapping.get(name, name),
            NameFormat=ATTR_BASIC,
        )
        for value in values:
            node = _el(attribute, C.NS_SAML, "AttributeValue", value)
            node.set(f"{{{XSI}}}type", "xs:string")

    if sp.signAssertion:
        assertion = _sign(assertion, key)
    response.append(assertion)
    if sp.signResponse:
        response = _sign(response, key)
    return str(etree.tostring(response, xml_declaration=False, encoding="unicode"))


def attribute_values(user: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """concepts §9.1: email, name, username, userUuid, userId, tenantId, phoneNumber (if
    set) and roles (multi-valued; may be empty)."""
    out: list[tuple[str, list[str]]] = []
    for name in ("email", "name", "username", "userUuid", "userId", "tenantId", "phoneNumber"):
        value = user.get(name)
        if value is None or value == "":
            continue
        out.append((name, [str(value)]))
    out.append(("roles", [str(r) for r in user.get("roles", [])]))
    return out


def build_logout_response(
    *, issuer: str, sp: SpFields, in_response_to: str | None, key: SigningKey
) -> str:
    destination = str(sp.logoutUrl)
    at = _saml_time(now())
    response = _success(
        "LogoutResponse",
        issuer=issuer,
        destination=destination,
        in_response_to=in_response_to,
        at=at,
    )
    signed = _sign(response, key)
    return str(etree.tostring(signed, encoding="unicode"))
