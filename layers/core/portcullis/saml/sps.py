"""The registry of service providers per tenant (live mode): create from fields or from
pasted SP metadata (hardened parse, fields override what the metadata says), read,
replace, delete. An SP's entity id is unique within its tenant (a guard item)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationError

from portcullis.platform import weburls
from portcullis.platform.errors import BadRequest, NotFound
from portcullis.platform.models import STRICT
from portcullis.platform.timefmt import now_iso
from portcullis.platform.validation import bad_request_from
from portcullis.store import saml as store
from portcullis.store.transactions import WriteConflict

NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAMEID_FORMATS = {
    "emailAddress": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "persistent": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "unspecified": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
}
ATTRIBUTES = ("email", "name", "username", "userUuid", "userId", "tenantId", "phoneNumber", "roles")
MAX_METADATA_BYTES = 256 * 1024
MAX_SPS = 100


def _https_url(value: str) -> str:
    try:
        parsed = weburls.parse(value)
    except weburls.InvalidUrl as error:
        raise ValueError(str(error)) from None
    if parsed.origin.scheme != "https":
        raise ValueError("must be an https URL")
    return parsed.url


def _certificate(value: str) -> str:
    """A PEM (or bare base64 DER) X.509 certificate, stored as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    body = "".join(
        line.strip() for line in value.strip().splitlines() if not line.startswith("-----")
    )
    pem = "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise ValueError("must be a PEM X.509 certificate") from None
    return cert.public_bytes(Encoding.PEM).decode()


def _attribute_mapping(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(ATTRIBUTES))
    if unknown:
        raise ValueError(f"unknown attribute {unknown[0]!r} (one of {', '.join(ATTRIBUTES)})")
    return value


HttpsUrl = Annotated[str, Field(max_length=2048), AfterValidator(_https_url)]
Certificate = Annotated[str, Field(max_length=16_384), AfterValidator(_certificate)]
AttrName = Annotated[str, Field(min_length=1, max_length=256)]


class SpFields(BaseModel):
    model_config = STRICT
    name: Annotated[str, Field(min_length=1, max_length=200)]
    entityId: Annotated[str, Field(min_length=1, max_length=1024)]
    acsUrl: HttpsUrl
    logoutUrl: HttpsUrl | None = None
    spCertificate: Certificate | None = None
    nameIdFormat: Literal["emailAddress", "persistent", "unspecified"] = "emailAddress"
    attributeMapping: Annotated[dict[str, AttrName], AfterValidator(_attribute_mapping)] = {}
    signAssertion: bool = True
    signResponse: bool = True
    allowIdpInitiated: bool = False
    isActive: bool = True


def entity_digest(entity_id: str) -> str:
    return hashlib.sha256(entity_id.encode()).hexdigest()


def _validate(data: dict[str, Any]) -> SpFields:
    try:
        return SpFields.model_validate(data)
    except ValidationError as exc:
        raise bad_request_from(exc) from exc


def from_metadata(document: Any) -> dict[str, Any]:
    """The fields SP metadata fixes: entity id, POST ACS, SLO and signing certificate."""
    if not isinstance(document, str) or not document:
        raise BadRequest('"metadata" must be a non-empty string')
    # Imported here: only an SP registered from its metadata document needs an XML parser.
    from portcullis.saml import xmlsafe

    try:
        root = xmlsafe.parse(document, limit=MAX_METADATA_BYTES)
    except xmlsafe.UnsafeXml as error:
        raise BadRequest(f'"metadata" is refused: {error.message}') from None
    if root.tag != f"{{{NS_MD}}}EntityDescriptor":
        raise BadRequest('"metadata" must be an md:EntityDescriptor')
    sp = root.find(f"{{{NS_MD}}}SPSSODescriptor")
    if sp is None:
        raise BadRequest('"metadata" has no SPSSODescriptor')
    found: dict[str, Any] = {"entityId": root.get("entityID")}
    acs = [
        e
        for e in sp.findall(f"{{{NS_MD}}}AssertionConsumerService")
        if e.get("Binding") == BINDING_POST
    ]
    if acs:
        default = [e for e in acs if e.get("isDefault") == "true"]
        found["acsUrl"] = (default or acs)[0].get("Location")
    for slo in sp.findall(f"{{{NS_MD}}}SingleLogoutService"):
        if slo.get("Binding") in (BINDING_POST, BINDING_REDIRECT):
            found["logoutUrl"] = slo.get("Location")
            break
    for descriptor in sp.findall(f"{{{NS_MD}}}KeyDescriptor"):
        if descriptor.get("use") in (None, "signing"):
            cert = descriptor.find(f".//{{{NS_DS}}}X509Certificate")
            if cert is not None and cert.text:
                found["spCertificate"] = cert.text
                break
    formats = [e.text for e in sp.findall(f"{{{NS_MD}}}NameIDFormat") if e.text]
    for short, urn in NAMEID_FORMATS.items():
        if formats and formats[0].strip() == urn:
            found["nameIdFormat"] = short
    return {k: v for k, v in found.items() if v is not None}


def _fields_from_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest('"body" must be an object')
    data = dict(body)
    if "metadata" in data:
        data = {**from_metadata(data.pop("metadata")), **data}
        data.setdefault("name", data.get("entityId", "SP"))
    return data


def view(item: store.SamlSpItem) -> dict[str, Any]:
    return {
        "spId": item.spId,
        "tenantId": item.tenantId,
        **dict(item.config),
        "createdAt": item.createdAt,
        "updatedAt": item.updatedAt,
    }


def create(tenant_id: str, body: Any) -> dict[str, Any]:
    fields = _validate(_fields_from_body(body))
    item = store.new_sp_item(tenant_id, str(uuid.uuid4()), fields.model_dump(), now_iso())
    try:
        store.create_sp(item, entity_digest(fields.entityId), MAX_SPS)
    except store.TooManySps:
        raise BadRequest(f"A tenant can register at most {MAX_SPS} service providers") from None
    except WriteConflict:
        raise BadRequest('"entityId" is already registered in this tenant') from None
    return view(item)


def get(tenant_id: str, sp_id: str) -> store.SamlSpItem:
    try:
        uuid.UUID(sp_id)
    except ValueError:
        raise NotFound("Service provider not found") from None
    item = store.get_sp(tenant_id, sp_id.lower())
    if item is None:
        raise NotFound("Service provider not found")
    return item


def read(tenant_id: str, sp_id: str) -> dict[str, Any]:
    return view(get(tenant_id, sp_id))


def list_all(tenant_id: str) -> list[dict[str, Any]]:
    return sorted((view(i) for i in store.list_sps(tenant_id)), key=lambda v: v["createdAt"])


def replace(tenant_id: str, sp_id: str, body: Any) -> dict[str, Any]:
    """PUT merges the body over the stored fields (a metadata document may be sent too)."""
    item = get(tenant_id, sp_id)
    fields = _validate({**dict(item.config), **_fields_from_body(body)})
    old = entity_digest(str(item.config["entityId"]))
    item.config = fields.model_dump()
    item.updatedAt = now_iso()
    try:
        store.replace_sp(item, old, entity_digest(fields.entityId))
    except WriteConflict:
        raise BadRequest('"entityId" is already registered in this tenant') from None
    return view(item)


def delete(tenant_id: str, sp_id: str) -> dict[str, Any]:
    item = get(tenant_id, sp_id)
    try:
        store.delete_sp(item, entity_digest(str(item.config["entityId"])))
    except WriteConflict:
        raise NotFound("Service provider not found") from None
    return view(item)


def by_entity_id(tenant_id: str, entity_id: str) -> SpFields | None:
    """The registered, active SP with this entity id, or None."""
    sp_id = store.sp_id_for_entity(tenant_id, entity_digest(entity_id))
    item = store.get_sp(tenant_id, sp_id) if sp_id else None
    if item is None:
        return None
    fields = SpFields.model_validate(dict(item.config))
    return fields if fields.isActive else None


def with_id(tenant_id: str, sp_id: str) -> SpFields | None:
    item = store.get_sp(tenant_id, sp_id)
    return SpFields.model_validate(dict(item.config)) if item else None


def idp_initiated_target(tenant_id: str) -> tuple[str, SpFields] | None:
    """The tenant's single active SP that allows IdP-initiated login (§12.4), else None."""
    allowed = [
        (i.spId, SpFields.model_validate(dict(i.config)))
        for i in store.list_sps(tenant_id)
        if i.config.get("isActive") and i.config.get("allowIdpInitiated")
    ]
    return allowed[0] if len(allowed) == 1 else None
