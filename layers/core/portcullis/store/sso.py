"""SSO (api-client §7.10, concepts §9.2): provider settings, sign-on states, identities.

Key layout:
- provider settings: pk `TENANT#{mode}#{tenantId}`, sk `SSO#{provider}` or
  `SSO#custom#{providerId}`; `settings` in clear (what the admin API reads back),
  `sealed` the client secret / Apple private key as one KMS-envelope JSON string. The
  item lives in the tenant's partition, so deleting the tenant purges it.
- sign-on state: pk `SSOSTATE#{sha256(state)}`, sk `STATE`, `ttl` = expiry (checked
  again on use: TTL deletion lags). Taken by one conditional DeleteItem: single use.
- identity: pk `SSOID#{mode}#{tenantId}#{provider key}#{subject}`, sk `SSOID` → userId;
  gsi1 `SSOIDS#{mode}#{tenantId}#{userId}` lists one user's identities.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from portcullis.store.base import Gsi1, Item, delete_found, find, owned_item, saved, take, tenant_pk

PROVIDER_PREFIX = "SSO#"
STATE_SK = "STATE"
IDENTITY_SK = "SSOID"


class SsoProviderItem(Item):
    tenantId = UnicodeAttribute()
    mode = UnicodeAttribute()
    provider = UnicodeAttribute()  # "google", ..., or "custom#{providerId}"
    settings = JSONAttribute(default=dict)
    sealed = UnicodeAttribute(null=True)
    updatedAt = UnicodeAttribute()


class SsoStateItem(Item):
    mode = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    provider = UnicodeAttribute()
    state = JSONAttribute(default=dict)  # origin, redirect, data, verifier, nonce, ...
    expiresAt = NumberAttribute()


class SsoIdentityItem(Item):
    mode = UnicodeAttribute()
    tenantId = UnicodeAttribute()
    provider = UnicodeAttribute()
    subject = UnicodeAttribute()
    userId = NumberAttribute()
    userUuid = UnicodeAttribute()  # a deleted user's id may come back (imports): checked
    linkedAt = UnicodeAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_user: Gsi1[SsoIdentityItem] = Gsi1()


# ------------------------------------------------------------------ provider settings


def get_provider(mode: str, tenant_id: str, key: str) -> SsoProviderItem | None:
    return find(SsoProviderItem, tenant_pk(mode, tenant_id), PROVIDER_PREFIX + key)


def put_provider(
    mode: str,
    tenant_id: str,
    key: str,
    *,
    settings: dict[str, Any],
    sealed: str | None,
    updated_at: str,
) -> SsoProviderItem:
    item = owned_item(
        SsoProviderItem,
        PROVIDER_PREFIX + key,
        "ssoProvider",
        mode=mode,
        tenant_id=tenant_id,
        provider=key,
        settings=settings,
        sealed=sealed,
        updatedAt=updated_at,
    )
    return saved(item)


def delete_provider(mode: str, tenant_id: str, key: str) -> bool:
    return delete_found(get_provider(mode, tenant_id, key))


def list_providers(mode: str, tenant_id: str) -> list[SsoProviderItem]:
    """Every provider of the tenant and mode (one Query of its partition)."""
    return list(
        SsoProviderItem.query(
            tenant_pk(mode, tenant_id), SsoProviderItem.sk.startswith(PROVIDER_PREFIX)
        )
    )


# ------------------------------------------------------------------ sign-on states


def state_pk(digest: str) -> str:
    return f"SSOSTATE#{digest}"


def put_state(
    digest: str,
    *,
    mode: str,
    tenant_id: str,
    provider: str,
    state: dict[str, Any],
    expires_at: int,
) -> None:
    owned_item(
        SsoStateItem,
        STATE_SK,
        "ssoState",
        pk=state_pk(digest),
        mode=mode,
        tenant_id=tenant_id,
        provider=provider,
        state=state,
        expiresAt=expires_at,
        ttl=expires_at,
    ).save(condition=SsoStateItem.pk.does_not_exist())


def take_state(digest: str, *, provider: str, now: int) -> SsoStateItem | None:
    """Delete the state and return it when it exists, is of `provider` and has not
    expired; None otherwise (a replayed, forged or stale state)."""
    condition = (
        SsoStateItem.pk.exists()
        & (SsoStateItem.provider == provider)
        & (SsoStateItem.expiresAt > now)
    )
    return take(SsoStateItem, state_pk(digest), STATE_SK, condition)


# ------------------------------------------------------------------ identities


def identity_pk(mode: str, tenant_id: str, provider: str, subject: str) -> str:
    return f"SSOID#{mode}#{tenant_id}#{provider}#{subject}"


def identities_pk(mode: str, tenant_id: str, user_id: int) -> str:
    return f"SSOIDS#{mode}#{tenant_id}#{int(user_id)}"


def new_identity(
    mode: str,
    tenant_id: str,
    provider: str,
    subject: str,
    user_id: int,
    user_uuid: str,
    linked_at: str,
) -> SsoIdentityItem:
    """Not written: add it to the transaction that creates or signs in the user, with
    `IDENTITY_CONDITION`, so one identity never names two users."""
    return owned_item(
        SsoIdentityItem,
        IDENTITY_SK,
        "ssoIdentity",
        pk=identity_pk(mode, tenant_id, provider, subject),
        mode=mode,
        tenant_id=tenant_id,
        provider=provider,
        subject=subject,
        userId=int(user_id),
        userUuid=user_uuid,
        linkedAt=linked_at,
        gsi1pk=identities_pk(mode, tenant_id, user_id),
        gsi1sk=f"{provider}#{subject}",
    )


def identity_condition() -> Any:
    return SsoIdentityItem.pk.does_not_exist()


def find_identity(mode: str, tenant_id: str, provider: str, subject: str) -> SsoIdentityItem | None:
    return find(SsoIdentityItem, identity_pk(mode, tenant_id, provider, subject), IDENTITY_SK)


def user_identities(mode: str, tenant_id: str, user_id: int) -> list[SsoIdentityItem]:
    return list(SsoIdentityItem.by_user.query(identities_pk(mode, tenant_id, user_id)))


def delete_identity(item: SsoIdentityItem) -> None:
    SsoIdentityItem(item.pk, item.sk).delete()


def enabled_names(mode: str, tenant_id: str) -> list[str]:
    """The named (not custom) providers switched on with credentials, for `/mode`
    (api-client §5): custom providers are left out, the toolkit cannot start them."""
    found = []
    for item in list_providers(mode, tenant_id):
        settings = item.settings or {}
        if "#" not in item.provider and settings.get("enabled") and settings.get("ready"):
            found.append(item.provider)
    return sorted(found)
