"""Signing-key rotation (concepts §2.10 "Key rotation"; docs/keyrotation.md).

A rotation adds a key pair with a new `kid`, published at once; it starts signing
after WARM_UP (verifiers' JWKS caches learn it first) or at once when asked (an
emergency: a verifier whose cache predates the new key refuses its tokens until it
refetches). The key it replaces stops signing then and keeps verifying for the tenant's
longest token lifetime. An admin may remove a key that does not sign (a compromised
one) at once. The scheduled rotation rotates every tenant whose key is older than N
days. Each change is one conditional transaction on the chain of keys
(`store/jwtkeys.py`), so concurrent changes cannot leave two signing keys or none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portcullis.platform.errors import BadRequest, NotFound, PortcullisError
from portcullis.platform.timefmt import iso, now, parse_iso
from portcullis.store import jwtkeys as store
from portcullis.store import tenants as tenant_store
from portcullis.store.transactions import WriteConflict
from portcullis.tenancy import settings
from portcullis.tokens import signing

log = logging.getLogger(__name__)

WARM_UP = timedelta(minutes=10)
# Keys that may still verify a token (signing, warming up, retired but within the
# longest lifetime): a JWKS verifiers download should stay small, and a tenant that
# rotates this often has something else wrong. Removing retired keys makes room.
MAX_KEYS = 10
MODES = ("test", "live")
_ATTEMPTS = 3


class RotationInProgress(
    PortcullisError,
    status=409,
    message="A new signing key is already waiting to take over",
    error_type="conflict_error",
):
    """A rotation without `activateNow` while the last one's key still warms up, or a
    change that lost a race with another one three times."""


class TooManyKeys(
    PortcullisError,
    status=409,
    message="Too many keys still verify tokens; remove retired keys first",
    error_type="conflict_error",
):
    """A rotation that would publish more than MAX_KEYS keys at once."""


@dataclass(frozen=True)
class Rotated:
    """The new key, and when it signs."""

    key: store.JwtKeyItem
    activates_at: datetime

    def json(self) -> dict[str, Any]:
        """The key's §12.1 object plus `activatesAt` (an extension)."""
        active = self.activates_at <= now()
        body = signing.public_key_json(self.key, active=active)
        return {**body, "activatesAt": iso(self.activates_at)}


def _chain(tenant_id: str, mode: str) -> list[store.JwtKeyItem]:
    keys = store.list_keys(mode, tenant_id, consistent=True)
    if not keys:
        raise NotFound("Tenant not found")
    return keys


def _head(keys: list[store.JwtKeyItem]) -> store.JwtKeyItem | None:
    """The end of the chain: the key no later key replaces."""
    heads = [k for k in keys if k.retiredAt is None]
    return max(heads, key=signing.activates_at) if heads else None


def _replaced_by(keys: list[store.JwtKeyItem], key: store.JwtKeyItem) -> store.JwtKeyItem | None:
    """The key that hands over to `key` when it activates."""
    at = key.activatesAt or key.createdAt
    return next((k for k in keys if k.retiredAt == at and k is not key), None)


def rotate(tenant_id: str, mode: str, *, activate_now: bool = False) -> Rotated:
    """Add a signing key; the current one hands over after WARM_UP (or at once).

    A key still warming up from an earlier rotation is dropped by an immediate rotation
    (it never signed) and refused with 409 otherwise, so two overlapping rotations
    never chain a key that would sign only for a moment."""
    fresh: store.JwtKeyItem | None = None
    longest = _longest(tenant_id, mode)
    for _ in range(_ATTEMPTS):
        keys = _chain(tenant_id, mode)
        at = now()
        head = _head(keys)
        if head is None:
            raise RotationInProgress("The signing keys are being changed; try again")
        current, current_retired_at, dropped = head, None, None
        if signing.is_pending(head, at):
            if not activate_now:
                raise RotationInProgress()
            replaced = _replaced_by(keys, head)
            if replaced is None:
                raise RotationInProgress("The signing keys are being changed; try again")
            current, current_retired_at, dropped = replaced, replaced.retiredAt, head
        kept = [k for k in keys if k is not dropped]
        if sum(signing.verifies(k, at, longest) for k in kept) >= MAX_KEYS:
            raise TooManyKeys()
        # RSA + KMS once (not per try), and only once the rotation may go ahead
        fresh = fresh or signing.new_signing_key_item(tenant_id, mode)
        fresh.activatesAt = iso(at if activate_now else at + WARM_UP)
        activates = parse_iso(fresh.activatesAt)
        try:
            store.rotate(fresh, current, current_retired_at=current_retired_at, dropped=dropped)
        except WriteConflict:
            continue  # another change came first: read the chain again
        signing.forget(tenant_id, mode)
        _prune([k for k in kept if not signing.verifies(k, at, longest)])
        return Rotated(fresh, activates)
    raise RotationInProgress("The signing keys are being changed; try again")


def _longest(tenant_id: str, mode: str) -> int:
    """How long a retired key keeps verifying: the tenant's longest token lifetime."""
    limits = settings.read(mode, tenant_id)
    return max(limits.accessTokenDuration, limits.refreshTokenDuration)


def remove(tenant_id: str, mode: str, kid: str) -> dict[str, Any]:
    """Remove a key that does not sign: it leaves the JWKS and stops verifying at once
    (on other instances within `signing.CACHE_SECONDS`). The signing key cannot go
    (rotate with `activateNow` first); a key still warming up can (the rotation is
    called off and the current key stays)."""
    keys = _chain(tenant_id, mode)
    target = next((k for k in keys if k.kid == kid), None)
    if target is None:
        raise NotFound("Key not found")
    at = now()
    if signing.is_signing(target, at):
        raise BadRequest("The signing key cannot be removed; rotate with activateNow first")
    body = signing.public_key_json(target, active=False)
    try:
        if signing.is_pending(target, at):
            current = _replaced_by(keys, target)
            if current is None:
                raise RotationInProgress("The signing keys are being changed; try again")
            store.remove_pending(target, current)
        else:
            store.remove_retired(target)
    except WriteConflict:
        raise RotationInProgress("The signing keys are being changed; try again") from None
    signing.forget(tenant_id, mode)
    return body


def _prune(expired: list[store.JwtKeyItem]) -> None:
    """Delete keys retired so long ago that nothing they signed is valid: their sealed
    private halves need not stay in the table. Best effort (the next rotation retries)."""
    for key in expired:
        store.delete_expired(key)


@dataclass
class ScheduledRun:
    rotated: list[tuple[str, str, str]]  # (mode, tenantId, new kid)
    skipped: list[tuple[str, str, str]]  # (mode, tenantId, why)


def rotate_due(max_age_days: int, *, limit: int = 200, at: datetime | None = None) -> ScheduledRun:
    """The scheduled rotation: every tenant (both modes) whose newest key was created
    more than `max_age_days` ago gets a new one, with the warm-up; at most `limit` per
    run (the others stay due). 0 days or less: off."""
    run = ScheduledRun([], [])
    if max_age_days <= 0:
        return run
    cutoff = iso((at or now()) - timedelta(days=max_age_days))
    for mode in MODES:
        for head in store.heads_created_before(mode, cutoff):
            if len(run.rotated) >= limit:
                return run
            if tenant_store.get_tenant(mode, head.tenantId) is None:
                continue  # deleted; its clean-up removes the key
            try:
                new = rotate(head.tenantId, mode)
            except (RotationInProgress, TooManyKeys, NotFound) as why:
                run.skipped.append((mode, head.tenantId, why.message))
                continue
            log.info("rotated the JWT key of %s (%s): %s", head.tenantId, mode, new.key.kid)
            run.rotated.append((mode, head.tenantId, new.key.kid))
    return run
