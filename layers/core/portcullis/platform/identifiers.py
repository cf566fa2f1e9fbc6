"""The shapes of identifiers a client sends, checked before any lookup: one pattern per
kind, so two endpoints can never disagree on what a tenant id, a UUID or a phone number
looks like, and one reader of the `Authorization: Bearer` header for both APIs."""

from __future__ import annotations

import re

from portcullis.platform.errors import MissingAuthentication, Unauthorized

TENANT_ID = re.compile(r"^[a-z0-9]{8}$")
# Either case on the wire (RFC 9562 §4: UUIDs compare case-insensitively); stored lowercase.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
UUID = re.compile(UUID_PATTERN)
# E.164: a plus and 8 to 15 digits (the toolkit's own check, api-client §6).
PHONE = re.compile(r"^\+[0-9]{8,15}$")


def bearer_credential(authorization: str | None) -> str | None:
    """The credential after `Bearer `, or None when the header is absent, blank, of
    another scheme or has no credential."""
    if not authorization or not authorization.strip():
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def bearer(authorization: str | None) -> str:
    """The credential of a route that requires one: 401 `Missing authentication` without
    a header, 401 for any other scheme or an empty credential."""
    if not authorization or not authorization.strip():
        raise MissingAuthentication()
    value = bearer_credential(authorization)
    if value is None:
        raise Unauthorized()
    return value
