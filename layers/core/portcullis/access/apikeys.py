"""API keys (api-server §4, §11): generation, digest lookup, verification, last-key rule."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import BadRequest, NotFound, TooManyRequests
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import fixedwindow
from portcullis.store import apikeys as store
from portcullis.tenancy import settings
from portcullis.tenancy import state as tenantstate

if TYPE_CHECKING:
    from portcullis.access.callers import Caller  # callers imports this module

KeyType = Literal["admin", "readonly", "webhook"]
KEY_TYPES: tuple[KeyType, ...] = ("admin", "readonly", "webhook")
KEY_PATTERN = re.compile(r"^uf_(test|live)_(admin|readonly|webhook)_([a-z0-9]{8})_([0-9a-f]{32})$")


digest = secret_digest


def masked(mode: str, key_type: str, tenant_id: str, last4: str) -> str:
    return f"uf_{mode}_{key_type}_{tenant_id}_****{last4}"


def looks_like_key(value: str) -> bool:
    return bool(KEY_PATTERN.match(value))


def key_json(item: store.ApiKeyItem, full_key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": full_key or masked(item.mode, item.keyType, item.tenantId, item.last4),
        "type": item.keyType,
        "mode": item.mode,
        "tenantId": item.tenantId,
        "isActive": item.isActive,
        "createdAt": item.createdAt,
        "updatedAt": item.updatedAt,
    }
    if full_key is None:
        body["isMasked"] = True
    return body


def new_key(tenant_id: str, mode: str, key_type: str) -> tuple[str, store.ApiKeyItem]:
    secret = secrets.token_hex(16)
    full = f"uf_{mode}_{key_type}_{tenant_id}_{secret}"
    item = store.new_key_item(digest(full), tenant_id, mode, key_type, secret[-4:], now_iso())
    if key_type == "webhook":  # sent by the service in its webhooks: must be recoverable
        # Imported here: only creating a webhook key seals one (KMS envelope, secrets
        # store), while every server function imports this module to check keys.
        from portcullis.webhooks import bearer as webhook_bearer

        item.sealedKey = webhook_bearer.seal(full, mode, tenant_id)
    return full, item


def create(tenant_id: str, mode: str, key_type: str) -> dict[str, Any]:
    full, item = new_key(tenant_id, mode, key_type)
    store.create_key(item)
    return key_json(item, full_key=full)


def lookup(key: str) -> store.ApiKeyItem | None:
    """Find a key by its digest; the stored digest is compared in constant time."""
    if not looks_like_key(key):
        return None
    wanted = digest(key)
    item = store.get_key(wanted)
    if item is None or not hmac.compare_digest(item.digest, wanted):
        return None
    return item


def list_keys(tenant_id: str, mode: str, key_type: str) -> list[dict[str, Any]]:
    return [key_json(item) for item in store.list_keys(mode, tenant_id, key_type)]


def _in_scope_key(key: str, mode: str, in_scope: Any) -> store.ApiKeyItem | None:
    item = lookup(key)
    if item is None or item.mode != mode or not in_scope(item.tenantId):
        return None
    return item


def verify_for(caller: Caller, key: str) -> dict[str, Any]:
    """`POST /v0/keys/verify` (api-server §11.3) for an admin caller: counted first in
    `verifyKeyPerCredential` of its home tenant (clamped by its parent's limits): the
    answer says whether a key is valid, so no credential may probe keys faster."""
    home = caller.home("admin")
    own = settings.read(caller.mode, home.tenantId)
    limits = tenantstate.effective(caller.mode, home, own).rateLimits
    fixedwindow.hit("verifyKeyPerCredential", limits.verifyKeyPerCredential, caller.credential)
    return verify(key, caller.key_digest, caller.mode, lambda t: caller.can_reach(t, "admin"))


def verify(key: str, caller_digest: str | None, mode: str, in_scope: Any) -> dict[str, Any]:
    if caller_digest is not None and hmac.compare_digest(digest(key), caller_digest):
        raise BadRequest("An API key cannot be used to verify itself")
    item = _in_scope_key(key, mode, in_scope)
    if item is None:
        raise BadRequest("Invalid API key")
    result = {
        "mode": item.mode,
        "type": item.keyType,
        "tenantId": item.tenantId,
        "isActive": item.isActive,
    }
    if not item.isActive:
        raise BadRequest("Invalid API key", result=result)
    return {"message": "OK", "result": result}


def invalidate(key: str, mode: str, in_scope: Any) -> dict[str, Any]:
    item = _change(key, mode, in_scope, lambda k: store.invalidate_key(k, now_iso()), "invalidate")
    return {"message": "OK", "result": key_json(item)}


def delete(key: str, mode: str, in_scope: Any) -> dict[str, Any]:
    item = _change(key, mode, in_scope, store.delete_key, "delete")
    return {"message": "OK", "result": key_json(item)}


def _change(key: str, mode: str, in_scope: Any, write: Callable[[Any], None], verb: str) -> Any:
    """Apply `write` to the key as it is now; a key another request changed meanwhile
    is read again (an invalidation that raced another one is then simply done)."""
    for _attempt in range(3):
        item = _in_scope_key(key, mode, in_scope)
        if item is None:
            raise NotFound("API key not found")
        try:
            write(item)
        except store.KeyChanged:
            continue
        except store.LastActiveKey as exc:
            raise BadRequest(
                f"Cannot {verb} the only active {item.keyType} API key. "
                f"Please create another {item.keyType} API key, then try again."
            ) from exc
        return item
    raise TooManyRequests("Too many concurrent changes to this key, please retry", retry_after=1)
