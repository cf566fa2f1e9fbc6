"""Applying one checked import row (`imports.rows`) to the tenant's users, in one
transaction through the users core: the user record, its uniqueness guards, its role
assignments in the import's tenant, an imported TOTP authenticator and the
`user.create`/`user.update` webhook event commit together or not at all.

Which user a row names (concepts §7.4, api-server §1.10): a row with `userId` updates
that user, or creates a user with that id; without it, the user with the row's
`userUuid`, else the one with its email, is updated; otherwise a user is created.
`createdAt` is kept on created users (the original sign-up time). With `sendEmails` in
live mode a created user's welcome link and email (`users.invitations.welcome_for`)
join that same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from portcullis.credentials import passwords
from portcullis.platform.errors import BadRequest
from portcullis.platform.timefmt import now_iso
from portcullis.store import mfa as mfa_store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.tokens import envelope
from portcullis.users import invitations, records, roleassignments, service
from portcullis.users.rendering import Renderer

Outcome = Literal["created", "updated"]
USER_EXISTS = "User already exists"
# The writable fields (§1.4) an update takes as they are.
_UPDATABLE = (
    "email",
    "username",
    "name",
    "image",
    "phoneNumber",
    "data",
    "locked",
    "isMfaRequired",
    "isEmailConfirmed",
)


@dataclass(frozen=True)
class Target:
    """Where rows go and how: the import's tenant and its `updateExisting` option."""

    mode: str
    tenant: tenant_store.TenantItem
    update_existing: bool
    renderer: Renderer
    # `options.sendEmails` in live mode: created users get the welcome email.
    send_emails: bool = False


def totp_item(user: user_store.UserItem, secret: str, stamp: str) -> user_store.Item:
    """An active TOTP authenticator holding an imported secret, sealed as a set-up seals
    one (`auth.totp`: the same KMS context, so its log-in opens it), without backup
    codes (the user makes new ones by setting TOTP up again)."""
    item = mfa_store.new_totp_item(
        user.mode,
        user.tenantId,
        int(user.userId),
        status=mfa_store.ACTIVE,
        createdAt=stamp,
        activatedAt=stamp,
        lastStep=0,
    )
    context = f"totp:{user.mode}:{user.tenantId}:{int(user.userId)}"
    sealed = envelope.seal(secret.encode("ascii"), context)
    item.ciphertext = sealed.ciphertext
    item.encryptedDataKey = sealed.encrypted_data_key
    item.nonce = sealed.nonce
    user.totpEnabledAt = stamp
    return item


def _match(target: Target, row: Mapping[str, Any]) -> user_store.UserItem | None:
    tenant_id = target.tenant.tenantId
    user_id, user_uuid = row.get("userId"), row.get("userUuid")
    if user_id is not None:
        found = user_store.get_user(target.mode, tenant_id, int(user_id), consistent=True)
        if found is not None and user_uuid and found.userUuid != str(user_uuid).lower():
            raise BadRequest('"userId" and "userUuid" name different users')
        return found
    if user_uuid:
        found = user_store.get_by_uuid(target.mode, tenant_id, str(user_uuid).lower())
        if found is not None:
            return found
    if row.get("email"):
        return user_store.get_by_unique(target.mode, tenant_id, "email", str(row["email"]))
    return None


def _create(target: Target, row: Mapping[str, Any]) -> None:
    if not row.get("email"):
        raise BadRequest('"email" is required')
    roles = row.get("roles")
    user_uuid = str(row["userUuid"]).lower() if row.get("userUuid") else None
    if user_uuid and user_store.get_by_uuid(target.mode, target.tenant.tenantId, user_uuid):
        raise BadRequest('"userUuid" belongs to another user')
    item = records.new_user(
        target.mode,
        target.tenant.tenantId,
        **records.writable(row),
        roles={target.tenant.tenantId: list(roles)} if roles else None,
        user_id=int(row["userId"]) if row.get("userId") is not None else None,
        user_uuid=user_uuid,
        created_at=row.get("createdAt"),
        password_hash=row.get("passwordHash"),
    )
    if row.get("isPhoneNumberConfirmed") and item.phoneNumber:
        item.isPhoneNumberConfirmed = True
        item.confirmedPhoneNumberAt = item.createdAt
    saves: list[user_store.Item] = []
    if row.get("totpSecret"):
        saves.append(totp_item(item, str(row["totpSecret"]), now_iso()))
    welcome = invitations.Welcome([])
    if target.send_emails:
        # The link and the outbox email commit with the user: a row applied again
        # (a redelivered chunk) finds the user and updates it, so it never sends twice.
        welcome = invitations.welcome_for(target.tenant, item)
        saves.extend(welcome.saves)
    service.create(item, user_store.Extra(saves, []), renderer=target.renderer)
    welcome.committed(item)


def _update(target: Target, user: user_store.UserItem, row: Mapping[str, Any]) -> None:
    changes = {name: row[name] for name in _UPDATABLE if name in row}
    roles = row.get("roles")
    secret = row.get("totpSecret")
    confirmed_phone = row.get("isPhoneNumberConfirmed")

    def also(
        current: user_store.UserItem, stamp: str
    ) -> tuple[list[user_store.Item], list[user_store.Item]]:
        saves: list[user_store.Item] = []
        deletes: list[user_store.Item] = []
        if roles is not None:
            saves, deletes = roleassignments.role_change(
                current, target.tenant.tenantId, list(roles), stamp
            )
        if secret:
            saves.append(totp_item(current, str(secret), stamp))
        if confirmed_phone is not None and current.phoneNumber:
            current.isPhoneNumberConfirmed = bool(confirmed_phone)
            current.confirmedPhoneNumberAt = stamp if confirmed_phone else None
        return saves, deletes

    # The row check applied the password policy (or the import skips it on purpose).
    hashed = passwords.hash_password(str(row["password"])) if row.get("password") else None
    service.update(user, changes, password_hash=hashed or row.get("passwordHash"), also=also)


def apply(target: Target, row: Mapping[str, Any]) -> Outcome:
    """Create or update the user a row names; BadRequest (the row's error) otherwise."""
    existing = _match(target, row)
    if existing is None:
        _create(target, row)
        return "created"
    if not target.update_existing:
        raise BadRequest(USER_EXISTS)
    _update(target, existing, row)
    return "updated"
