"""PKCE for native apps (RFC 7636, S256 only; api-client §7.11, concepts §2.9).

A sign-in that carried `code_challenge` answers with a single-use authorization code
instead of tokens. The code is bound to the new session and to the challenge; only
the app that holds the verifier can exchange it, within 60 seconds, for that
session's tokens. The code is stored as a SHA-256 digest (it has 256 random bits, so
a plain digest is enough) and consumed by the first exchange whatever its outcome,
so a wrong verifier cannot be retried against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import INVALID_TOKEN, BadRequest, Unauthorized
from portcullis.platform.timefmt import iso, now
from portcullis.store import pkce as store
from portcullis.store.sessions import SessionItem

CODE_SECONDS = 60
MISSING = "authorizationCode and codeVerifier are required"


digest = secret_digest


def s256(verifier: str) -> str:
    """BASE64URL(SHA-256(ASCII(verifier))) without padding (RFC 7636 §4.2)."""
    raw = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_code(session: SessionItem, challenge: str, at: int) -> tuple[str, store.PkceCodeItem]:
    """A fresh code and its item, to be written with the session it opens."""
    code = secrets.token_urlsafe(32)
    expires = at + CODE_SECONDS
    item = store.new_code_item(
        digest(code), session, challenge, created_at=iso(now()), expires_at=expires
    )
    return code, item


def required_response(code: str, redirect_to: str) -> dict[str, Any]:
    """§1.6: no tokens; the client appends `authorization_code` to `redirectTo`."""
    return {"message": "PKCE required", "authorizationCode": code, "redirectTo": redirect_to}


def redeem(tenant_id: str, code: Any, verifier: Any, at: int) -> store.PkceCodeItem:
    """Consume the code and check the verifier; one 401 for every way it can be wrong."""
    if not isinstance(code, str) or not code or not isinstance(verifier, str) or not verifier:
        raise BadRequest(MISSING)
    if len(code) > 200:
        raise Unauthorized(INVALID_TOKEN)
    item = store.consume(digest(code), tenant_id=tenant_id, now=at)
    if item is None or not hmac.compare_digest(s256(verifier), item.codeChallenge):
        raise Unauthorized(INVALID_TOKEN)
    return item
