"""Server-initiated links: invitations (§7.6, §9.4, §9.9) and link generation (§13.1).

An invitation creates the user (or reuses the one with that email), issues a link
credential and emails it, all in ONE transaction with the user write: the link item
and the email (an outbox item) commit with the user or not at all. The email is sent
after the commit by the outbox publisher, with retries; if SES refuses it for good, the
user still exists and a new invitation can be sent by inviting again (docs/emails.md).

Links point at the tenant's login path (`type=welcome`) or password reset path
(`type=invite`) on the workspace's primary live domain, or `http://localhost:3000`
when it has none. Test mode never emails: the response carries the `link` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portcullis.access import roles as role_service
from portcullis.access import userscope
from portcullis.access.callers import Caller
from portcullis.credentials import links
from portcullis.messaging import mail, outbox
from portcullis.platform import customdata, durations
from portcullis.platform.errors import BadRequest, NotFound, TooManyRequests
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import fixedwindow
from portcullis.store import links as link_store
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store
from portcullis.tenancy import settings
from portcullis.tenancy.settings import RateLimit
from portcullis.users import lookups, roleassignments, service
from portcullis.users.conflicts import CONFLICT_MESSAGES, retrying
from portcullis.users.inputs import LinkGenerate, LinkOptions
from portcullis.users.records import new_user, normalise_email
from portcullis.users.rendering import Renderer, event_item, user_json

# api-server §6: at most one email a day to a new or unconfirmed address, one every
# 10 seconds to a confirmed one. Over the limit the email is skipped, never the call.
UNCONFIRMED_EMAIL_LIMIT = RateLimit(limit=1, windowSeconds=86_400)
CONFIRMED_EMAIL_LIMIT = RateLimit(limit=1, windowSeconds=10)

GENERATE_TYPES = ("login", "welcome", "verify", "reset")


@dataclass(frozen=True)
class Invitation:
    user: user_store.UserItem
    link: str | None
    emailed: bool
    # The roles an existing user held before this call (None: the call created it),
    # for callers that must not hand out links to users outside their scope.
    prior_roles: dict[str, list[str]] | None = None


def _workspace(tenant: tenant_store.TenantItem) -> tenant_store.TenantItem:
    if not tenant.ancestors:
        return tenant
    return tenant_store.get_tenant(tenant.mode, tenant.ancestors[-1]) or tenant


def _limit(confirmed: bool) -> tuple[str, RateLimit]:
    if confirmed:
        return "inviteEmailConfirmed", CONFIRMED_EMAIL_LIMIT
    return "inviteEmailUnconfirmed", UNCONFIRMED_EMAIL_LIMIT


def _email_allowed(mode: str, tenant_id: str, email: str, confirmed: bool) -> bool:
    """Whether the recipient's email limit leaves room (checked, not counted: an
    invitation that then fails validation must not use up the day's email)."""
    if mode != "live":
        return False
    name, limit = _limit(confirmed)
    try:
        fixedwindow.check(name, limit, mode, tenant_id, email)
    except TooManyRequests:
        return False
    return True


def _count_email(invitation: Invitation, confirmed: bool) -> Invitation:
    """Count a committed invitation email against the recipient's limit."""
    if invitation.emailed:
        _record_email(invitation.user, confirmed)
    return invitation


def _record_email(user: user_store.UserItem, confirmed: bool) -> None:
    name, limit = _limit(confirmed)
    fixedwindow.record(name, limit, user.mode, user.tenantId, str(user.email))


@dataclass(frozen=True)
class InviteTerms:
    """An invitation, validated: who owns the user, which roles where, which link."""

    mode: str
    owner: tenant_store.TenantItem
    role_tenant: tenant_store.TenantItem
    role_names: list[str]
    reset: bool
    seconds: int
    send: bool

    @property
    def link_type(self) -> str:
        return "invite" if self.reset else "welcome"


@dataclass(frozen=True)
class _Plan:
    """What one write attempt stores besides the user record."""

    link_item: link_store.LinkItem | None
    url: str | None
    email_item: user_store.Item | None

    @property
    def saves(self) -> list[user_store.Item]:
        return [x for x in (self.link_item, self.email_item) if x is not None]


def _plan(request: InviteTerms, user: user_store.UserItem, email_allowed: bool) -> _Plan:
    """Issue the link and render the email for `user` (in memory, nothing written)."""
    if not request.send:
        return _Plan(None, None, None)
    token, link_item = links.new_link_item(user, request.link_type, request.seconds)
    paths = settings.read(user.mode, request.owner.tenantId)
    path = paths.resetPasswordPath if request.reset else paths.logoutRedirectPath
    origin = links.server_origin(request.owner)
    url = links.link_url(origin, path, user.userUuid, token, request.link_type)
    if not (email_allowed and user.email):
        return _Plan(link_item, url, None)
    workspace = _workspace(request.owner)
    # "Team A (Acme)" for an invitation into a child tenant; just "Acme" otherwise.
    tenant_name = workspace.name
    if request.role_tenant.tenantId != workspace.tenantId:
        tenant_name = f"{request.role_tenant.name} ({workspace.name})"
    subject, text, html = mail.render(
        "invite",
        {
            "workspace_name": workspace.name,
            "tenant_name": tenant_name,
            "user_name": user.name,
            "user_email": user.email,
            "user_username": user.username,
            "link": url,
            "expires_in": durations.describe(request.seconds),
            "expires_at": links.issued(user, token, link_item).expires_at,
        },
        mode=user.mode,
        tenant=request.owner,
    )
    email_item = outbox.email_item(
        mode=user.mode,
        tenant_id=user.tenantId,
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        sender=mail.sender_for(user.mode, request.owner),
        template="invite",
        # §5.5: a tenant with `linkEmailWebhookUrl` receives this instead of SES sending it.
        webhook={
            "type": "invite",
            "channel": "email",
            "to": user.email,
            "link": url,
            "expiresAt": links.issued(user, token, link_item).expires_at,
            "user": {
                "userId": int(user.userId),
                "userUuid": user.userUuid,
                "email": user.email,
                "name": user.name,
            },
            "tenant": {"tenantId": user.tenantId, "name": tenant_name},
        },
        # Only the last ancestor matters: the workspace, whose secret signs the delivery.
        ancestor_tenant_ids=[] if workspace.tenantId == user.tenantId else [workspace.tenantId],
    )
    user.lastMessagedAt = now_iso()
    return _Plan(link_item, url, email_item)


@dataclass(frozen=True)
class Welcome:
    """The welcome email of a user being created elsewhere (an import's
    `options.sendEmails`): the link credential and outbox item to commit WITH the user."""

    saves: list[user_store.Item]

    def committed(self, user: user_store.UserItem) -> None:
        """Count the email against the recipient's limit once the user is written."""
        if self.saves:
            _record_email(user, bool(user.isEmailConfirmed))


def welcome_for(owner: tenant_store.TenantItem, user: user_store.UserItem) -> Welcome:
    """The email a `welcome` invitation sends (same template, link and 3-day lifetime)
    for `user`, not yet written, in `owner`. Nothing in test mode, without an email,
    or over the recipient's email limit: then no link is issued either (it would reach
    no one). Sets `user.lastMessagedAt` when there is an email."""
    if user.mode != "live" or not user.email:
        return Welcome([])
    if not _email_allowed(user.mode, owner.tenantId, user.email, bool(user.isEmailConfirmed)):
        return Welcome([])
    request = InviteTerms(
        mode=user.mode,
        owner=owner,
        role_tenant=owner,
        role_names=[],
        reset=False,
        seconds=links.seconds_for("welcome", None),
        send=True,
    )
    plan = _plan(request, user, True)
    return Welcome(plan.saves if plan.email_item is not None else [])


def invite(
    mode: str,
    owner: tenant_store.TenantItem,
    fields: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
    *,
    role_tenant: tenant_store.TenantItem | None = None,
    role_names: list[str] | None = None,
) -> Invitation:
    """Invite `fields["email"]` into `owner`, optionally adding roles in `role_tenant`.

    An existing user with that email is reused: the other fields are ignored, the roles
    are added (never removed) and a fresh invitation goes out (§7.6, §9.4).
    """
    options = options or {}
    reset = options.get("type") == "reset"
    email = normalise_email(fields.get("email"))
    if not email:
        raise BadRequest('"email" is required')
    if fields.get("data") is not None:
        customdata.check_data_size(fields["data"])
    target = role_tenant or owner
    request = InviteTerms(
        mode=mode,
        owner=owner,
        role_tenant=target,
        role_names=role_service.require_roles(mode, target.tenantId, role_names or []),
        reset=reset,
        seconds=links.seconds_for("invite" if reset else "welcome", options.get("duration")),
        send=not bool(options.get("noInviteEmail")),
    )
    existing = user_store.get_by_unique(mode, owner.tenantId, "email", email)
    confirmed = bool(existing and existing.isEmailConfirmed)
    email_allowed = request.send and _email_allowed(mode, owner.tenantId, email, confirmed)
    if existing is None:
        created = _invite_new(request, fields, email, email_allowed)
        if created is not None:
            return _count_email(created, confirmed)
        # Someone created this email meanwhile: invite that user instead.
        existing = user_store.get_by_unique(mode, owner.tenantId, "email", email)
        if existing is None:
            raise BadRequest(CONFLICT_MESSAGES["email"])
    return _count_email(_invite_existing(request, existing, email_allowed), confirmed)


def _invite_new(
    request: InviteTerms, fields: Mapping[str, Any], email: str, email_allowed: bool
) -> Invitation | None:
    """Create the user with its link and email; None if the email was taken meanwhile."""
    names = request.role_names
    item = new_user(
        request.mode,
        request.owner.tenantId,
        email=email,
        username=fields.get("username"),
        phone_number=fields.get("phoneNumber"),
        name=fields.get("name"),
        image=fields.get("image"),
        data=fields.get("data"),
        roles={request.role_tenant.tenantId: names} if names else None,
    )
    plan = _plan(request, item, email_allowed)
    renderer = Renderer.for_tenant(request.mode, request.owner.tenantId, request.owner)
    try:
        service.create(item, user_store.Extra(plan.saves, []), renderer=renderer)
    except BadRequest as exc:
        if exc.message == CONFLICT_MESSAGES["email"]:
            return None
        raise
    return Invitation(item, plan.url, plan.email_item is not None)


def _invite_existing(
    request: InviteTerms, user: user_store.UserItem, email_allowed: bool
) -> Invitation:
    """Add roles and send a fresh invitation; one transaction when anything changes."""
    renderer = Renderer.for_tenant(user.mode, user.tenantId, request.owner)
    # A fresh reset-type invitation voids the user's earlier ones, in the same write.
    stale: list[link_store.LinkItem] = []
    if request.reset and request.send:
        stale = link_store.user_links(
            user.mode, user.tenantId, user.userUuid, links.RESET_LINK_TYPES
        )
    tenant_id = request.role_tenant.tenantId
    prior = {t: list(names) for t, names in (user.roles or {}).items()}
    current = user
    outcome: list[Invitation] = []

    def attempt() -> user_store.UserItem:
        nonlocal current
        held = list((current.roles or {}).get(tenant_id) or [])
        wanted = roleassignments.union(held, request.role_names)
        saves: list[user_store.Item] = []
        deletes: list[user_store.Item] = []
        if wanted != held:
            saves, deletes = roleassignments.role_change(current, tenant_id, wanted, now_iso())
        plan = _plan(request, current, email_allowed)
        saves.extend(plan.saves)
        if wanted != held:
            saves.append(event_item("update", current, renderer))
        if plan.link_item is not None:
            deletes.extend(link_store.link_keys(stale))
        if wanted != held or plan.email_item is not None:
            try:
                user_store.save_user(
                    current, user_store.unique_fields(current), user_store.Extra(saves, deletes)
                )
            except (user_store.Changed, user_store.Contention):
                current = lookups.reload(current)
                raise
        elif plan.link_item is not None:
            link_store.put_link(plan.link_item, replaces=stale)
        outcome.append(Invitation(current, plan.url, plan.email_item is not None, prior))
        return current

    retrying(attempt)
    return outcome[-1]


def invitation_json(invitation: Invitation, *, with_link: bool = True) -> dict[str, Any]:
    """The User object, plus `link` in test mode (where nothing is emailed) unless
    `with_link` is False."""
    body = user_json(invitation.user)
    if with_link and invitation.user.mode == "test" and invitation.link:
        body["link"] = invitation.link
    return body


def invite_to_role(
    who: Caller, role_tenant: tenant_store.TenantItem, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """§9.9: the user is created in (or found among) the home tenant's users and gets
    `fields["roles"]` in `role_tenant`. An existing user the caller's subtree does not
    own is invited by email only: the answer never carries its link (`userscope`)."""
    owner = role_tenant
    if role_tenant.tenantId != who.tenant_id:
        # The credential already proved admin rights on `role_tenant`; its home tenant
        # is where the user record lives (for a token: the user's own tenant).
        owner = tenant_store.get_tenant(who.mode, who.tenant_id) or role_tenant
    scope = userscope.scope(who, role_tenant, "admin")
    values = dict(fields)
    role_names = values.pop("roles")
    options = values.pop("options", None)
    invitation = invite(
        who.mode, owner, values, options, role_tenant=role_tenant, role_names=role_names
    )
    # A link is a sign-in as that user: only for a user this call created or one owned
    # inside the caller's subtree, never for one that merely holds a role there (it may
    # be a workspace admin).
    reveal = invitation.prior_roles is None or scope.owns(invitation.user)
    return scope.shown(invitation_json(invitation, with_link=reveal))


def generate_link_for(tenant: tenant_store.TenantItem, body: LinkGenerate) -> dict[str, Any]:
    """POST `/v0/auth/link/generate` (§13.1) from its validated body."""
    options = body.options or LinkOptions()
    return generate_link(
        tenant.mode,
        tenant,
        email=body.email,
        user_id=body.userId,
        user_uuid=body.userUuid,
        link_type=options.type,
        duration=options.duration,
    )


def generate_link(
    mode: str,
    tenant: tenant_store.TenantItem,
    *,
    email: str | None = None,
    user_id: int | None = None,
    user_uuid: str | None = None,
    link_type: str | None = None,
    duration: str | None = None,
) -> dict[str, Any]:
    """Link credentials for the caller's own emails; nothing is sent (§13.1)."""
    kind = link_type or "login"
    if kind not in GENERATE_TYPES:
        raise BadRequest('"options.type" must be one of [login, welcome, verify, reset]')
    seconds = links.seconds_for(kind, duration)
    if email is None and user_id is None and user_uuid is None:
        raise BadRequest('"email" is required')
    user = lookups.lookup(mode, tenant.tenantId, email=email, user_id=user_id, user_uuid=user_uuid)
    if user is None:
        raise NotFound(lookups.USER_NOT_FOUND)
    if user.locked:
        raise BadRequest("User is locked")
    issued = links.issue(user, kind, seconds)
    result = {
        "uuid": issued.uuid,
        "token": issued.token,
        "type": issued.type,
        "expiresAt": issued.expires_at,
        "userId": int(user.userId),
        "email": user.email,
    }
    return {"message": "OK", "uuid": issued.uuid, "token": issued.token, "result": result}
