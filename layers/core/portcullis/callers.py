"""Who is calling a server-to-server endpoint: an API key or an admin user's access token.

Resolves credential → mode → level → tenant scope before any data is touched
(api-server §4). A tenant outside the scope answers 403 whether or not it exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from portcullis import authfailures, keys, settings
from portcullis.errors import (
    Forbidden,
    MissingAuthentication,
    NotFound,
    PortcullisError,
    Unauthorized,
)
from portcullis.store import tenants as tenant_store

Level = Literal["admin", "read"]
TENANT_ID = re.compile(r"^[a-z0-9]{8}$")
_READ_ROLES = {"admin", "member"}


@dataclass(frozen=True)
class Caller:
    mode: str
    tenant_id: str
    level: Literal["admin", "readonly"]
    kind: Literal["api_key", "jwt"]
    key_digest: str | None = None
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What the per-credential request buckets count (api-server §6): the API key's
    # digest, or the access token's session (every token of one sign-in shares it).
    credential: str = ""

    def require(self, level: Level) -> None:
        if level == "admin" and self.level != "admin":
            raise Forbidden()

    def _level_in(self, chain: list[str], level: Level) -> bool:
        if self.kind == "api_key":
            return self.tenant_id in chain and (level == "read" or self.level == "admin")
        wanted = {"admin"} if level == "admin" else _READ_ROLES
        return any(wanted & set(self.roles.get(t, ())) for t in chain)

    def can_reach(self, tenant_id: str, level: Level = "read") -> bool:
        """Whether `tenant_id` is the home tenant or a descendant, at `level`."""
        if not TENANT_ID.match(tenant_id):
            return False
        if self.kind == "api_key" and tenant_id == self.tenant_id:
            return level == "read" or self.level == "admin"
        tenant = tenant_store.get_tenant(self.mode, tenant_id)
        if tenant is None:
            return False
        return self._level_in([tenant_id, *tenant.ancestors], level)

    def tenant(self, tenant_id: str, level: Level) -> tenant_store.TenantItem:
        """Load an addressed tenant in scope, or refuse (404 malformed, else 403)."""
        if self.kind == "api_key":
            self.require(level)
        if not TENANT_ID.match(tenant_id):
            raise NotFound("Tenant not found")
        tenant = tenant_store.get_tenant(self.mode, tenant_id)
        if tenant is None or not self._level_in([tenant_id, *tenant.ancestors], level):
            raise Forbidden()
        return tenant

    def home(self, level: Level) -> tenant_store.TenantItem:
        return self.tenant(self.tenant_id, level)


def bearer(authorization: str | None) -> str:
    """The credential of an `Authorization: Bearer ...` header: 401 `Missing
    authentication` without one, 401 for any other scheme (server and client APIs)."""
    if not authorization or not authorization.strip():
        raise MissingAuthentication()
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized()
    return value.strip()


def _fail(source_ip: str, credential: str) -> PortcullisError:
    """Count a failed credential per source IP; past the limit, answer 429 instead of 401."""

    def limit() -> settings.RateLimit:
        match = keys.KEY_PATTERN.match(credential)
        found = settings.read(match.group(1), match.group(3)) if match else None
        return (found or settings.TenantSettings()).rateLimits.authFailuresPerIp

    return authfailures.failed(source_ip, limit, Unauthorized())


def authenticate(authorization: str | None, source_ip: str, *, test_query: bool = False) -> Caller:
    credential = bearer(authorization)
    if credential.startswith("uf_"):
        item = keys.lookup(credential)
        if item is None or not item.isActive or item.keyType == "webhook":
            raise _fail(source_ip, credential)
        level: Literal["admin", "readonly"] = "admin" if item.keyType == "admin" else "readonly"
        return Caller(
            mode=item.mode,
            tenant_id=item.tenantId,
            level=level,
            kind="api_key",
            key_digest=item.digest,
            credential=f"key:{item.digest}",
        )
    from portcullis import tokens  # only token callers need PyJWT

    try:
        verified = tokens.verify(credential)
    except Unauthorized:
        raise _fail(source_ip, credential) from None
    claims = verified.claims
    if claims.get("type") == "refresh" or not isinstance(claims.get("authorization"), dict):
        raise _fail(source_ip, credential)
    from portcullis import sessions  # imported here: only token callers need sessions

    if not sessions.is_active_for_token(claims):
        raise _fail(source_ip, credential)
    roles = {
        str(t): tuple(str(r) for r in (entry or {}).get("roles", []))
        for t, entry in claims["authorization"].items()
        if isinstance(entry, dict)
    }
    home = str(claims["tenantId"])
    admin = "admin" in roles.get(home, ())
    return Caller(
        mode="test" if test_query else str(claims["mode"]),
        tenant_id=home,
        level="admin" if admin else "readonly",
        kind="jwt",
        roles=roles,
        credential=f"session:{claims['sessionId']}",
    )
