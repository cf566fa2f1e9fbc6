"""Every XML document a client or admin sends passes through here before anything reads
it: a size limit, no DTD (so no entities, external or nested: billion laughs), no
network, no processing instructions. python3-saml's own hardened lxml parser
(`onelogin.saml2.xmlparser`, a vendored defusedxml.lxml) does the parsing."""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from onelogin.saml2 import xmlparser

from portcullis.platform.errors import BadRequest

MAX_XML_BYTES = 64 * 1024  # a signed AuthnRequest is ~4 KB; SP metadata rarely 20 KB


class UnsafeXml(BadRequest):
    """A document refused before it was read (DTD, entity, size or syntax)."""


def parse(document: bytes | str, *, limit: int = MAX_XML_BYTES) -> Any:
    """The root element of a well-formed document without DTD, or UnsafeXml."""
    raw = document.encode("utf-8") if isinstance(document, str) else document
    if len(raw) > limit:
        raise UnsafeXml("XML document is too large")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise UnsafeXml("XML with a DTD is not accepted")
    try:
        return xmlparser.fromstring(raw, forbid_dtd=True, forbid_entities=True)
    except (ValueError, SyntaxError) as error:  # lxml's XMLSyntaxError is a SyntaxError
        raise UnsafeXml("Invalid XML document") from error


def decode_post(value: str) -> bytes:
    """HTTP-POST binding: base64 of the document."""
    try:
        raw = base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError) as error:
        raise UnsafeXml("SAMLRequest is not valid base64") from error
    if len(raw) > MAX_XML_BYTES:
        raise UnsafeXml("XML document is too large")
    return raw


def decode_redirect(value: str) -> bytes:
    """HTTP-Redirect binding: base64 of raw DEFLATE; inflated with a cap (a small
    request may not expand into a large one)."""
    compressed = decode_post(value)
    inflater = zlib.decompressobj(-15)
    try:
        raw = inflater.decompress(compressed, MAX_XML_BYTES + 1)
    except zlib.error as error:
        raise UnsafeXml("SAMLRequest is not valid DEFLATE data") from error
    if len(raw) > MAX_XML_BYTES or inflater.unconsumed_tail:
        raise UnsafeXml("XML document is too large")
    return raw
