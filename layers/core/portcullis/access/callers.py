"""Who is calling a server-to-server endpoint: an API key or an admin user's access token.

Resolves credential → mode → level → tenant scope before any data is touched
(api-server §4). A tenant outside the scope answers 403 whether or not it exists.
Resolving a route's caller from its request is `access.apicaller` (Powertools glue,
kept apart so that non-HTTP functions using `Caller` do not load the REST resolver).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, NamedTuple

from portcullis.access import apikeys as keys
from portcullis.platform.errors import (
    Forbidden,
    NotFound,
    PortcullisError,
    Unauthorized,
)
from portcullis.platform.identifiers import TENANT_ID, bearer
from portcullis.ratelimit import authfailures
from portcullis.store import tenants as tenant_store
from portcullis.tenancy import settings

Level = Literal["admin", "read"]
_READ_ROLES = {"admin", "member"}


class Caller(NamedTuple):
    mode: str
    tenant_id: str
    level: Literal["admin", "readonly"]
    kind: Literal["api_key", "jwt"]
    key_digest: str | None = None
    # A token caller's roles per tenant, read from the stored user at request time
    # (never from the token's claims: a demoted user loses its rights at once).
    roles: Mapping[str, tuple[str, ...]] = MappingProxyType({})  # shared, so read-only
    # What the per-credential request buckets count (api-server §6): the API key's
    # digest, or the access token's session (every token of one sign-in shares it).
    credential: str = ""

    def require(self, level: Level) -> None:
        if level == "admin" and self.level != "admin":
            raise Forbidden()

    def _qualifies(self, tenant_id: str, level: Level) -> bool:
        """A token's user holds a role in `tenant_id` that grants `level` there."""
        wanted = {"admin"} if level == "admin" else _READ_ROLES
        return bool(wanted & set(self.roles.get(tenant_id, ())))

    def _level_in(self, chain: list[str], level: Level) -> bool:
        if self.kind == "api_key":
            return self.tenant_id in chain and (level == "read" or self.level == "admin")
        return any(self._qualifies(t, level) for t in chain)

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

    def home_id(self, level: Level) -> str:
        """The home tenant of account-level paths (api-server §4.5). An API key's is its
        tenant. A token's is derived from the tenants where its user holds a role that
        grants `level`: the user's own tenant if such a role reaches it, else the one
        tenant where the user holds such a role (several: no single home, 403)."""
        if self.kind == "api_key" or self._qualifies(self.tenant_id, level):
            return self.tenant_id
        held = [t for t in self.roles if t != self.tenant_id and self._qualifies(t, level)]
        if len(held) != 1:
            raise Forbidden()
        return held[0]

    def home(self, level: Level) -> tenant_store.TenantItem:
        return self.tenant(self.home_id(level), level)

    def root(self, tenant: tenant_store.TenantItem, level: Level) -> str:
        """The tenant whose subtree bounds what this caller may reach through `tenant`
        (already checked to be in scope): an API key's tenant, or the outermost tenant
        of `tenant`'s chain where a token's user holds a role granting `level`."""
        if self.kind == "api_key":
            return self.tenant_id
        chain = [tenant.tenantId, *tenant.ancestors]
        held = [t for t in chain if self._qualifies(t, level)]
        return held[-1] if held else tenant.tenantId


def _fail(source_ip: str, credential: str) -> PortcullisError:
    """Count a failed credential per source IP; past the limit, answer 429 instead of 401."""

    def limit() -> settings.RateLimit:
        match = keys.KEY_PATTERN.match(credential)
        found = settings.read(match.group(1), match.group(3)) if match else None
        return (found or settings.TenantSettings()).rateLimits.authFailuresPerIp

    return authfailures.failed(source_ip, limit, Unauthorized())


def authenticate(authorization: str | None, source_ip: str, *, test_query: bool = False) -> Caller:
    credential = bearer(authorization)
    # An address known to be over the failure limit is refused before any lookup.
    authfailures.check(source_ip)
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
    from portcullis.tokens import signing as tokens  # only token callers need PyJWT

    try:
        verified = tokens.verify(credential)
    except Unauthorized:
        raise _fail(source_ip, credential) from None
    claims = verified.claims
    if claims.get("type") == "refresh" or not isinstance(claims.get("authorization"), dict):
        raise _fail(source_ip, credential)
    from portcullis.sessions import tokenauth  # imported here: only token callers need sessions

    user = tokenauth.token_user(claims)
    if user is None:
        raise _fail(source_ip, credential)
    roles = {
        str(t): tuple(str(r) for r in (names or []))
        for t, names in (user.roles or {}).items()
        if names
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
