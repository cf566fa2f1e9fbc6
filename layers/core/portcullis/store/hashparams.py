"""Parameters of an imported password-hash format that are not in the hashes themselves:
one item per tenant, mode and algorithm (today only Firebase's scrypt variant, whose
project-wide signer key and salt separator every exported hash needs).

The parameters are one KMS-envelope-sealed JSON string, sealed by the caller
(`credentials/hashparams.py`) and bound to tenant and mode. `version` makes a
replacement a compare-and-set. The item lives in the tenant's partition, so deleting
the tenant purges it.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from portcullis.store.base import Versioned, find, owned_item, save_versioned, tenant_pk

PREFIX = "HASHPARAMS#"


class ParamsChanged(Exception):
    """Another writer saved parameters first; read them again."""


class HashParamsItem(Versioned):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    algorithm = UnicodeAttribute()
    sealed = UnicodeAttribute()  # sealed JSON of the parameters
    savedAt = UnicodeAttribute()


def get_params(mode: str, tenant_id: str, algorithm: str) -> HashParamsItem | None:
    return find(
        HashParamsItem, tenant_pk(mode, tenant_id), PREFIX + algorithm, consistent_read=True
    )


def put_params(
    mode: str,
    tenant_id: str,
    algorithm: str,
    *,
    sealed: str,
    saved_at: str,
    replaces: HashParamsItem | None,
) -> HashParamsItem:
    """Write the parameters if the stored ones are still `replaces` (None: none stored)."""
    item = owned_item(
        HashParamsItem,
        PREFIX + algorithm,
        "hashparams",
        mode=mode,
        tenant_id=tenant_id,
        algorithm=algorithm,
        sealed=sealed,
        savedAt=saved_at,
    )
    return save_versioned(item, replaces, ParamsChanged)
