"""Email: template rendering and the SES (sesv2) adapter (concepts §6.1, §6.3).

Templates are Jinja2, run in its sandbox (`emailtemplates`): the shipped defaults are
files in `portcullis/messaging/templates/` (`<name>.subject.txt`, `<name>.txt`,
`<name>.html`, and `code.sms.txt` for SMS); a tenant admin may override any part per
tenant and mode (`functions/emails`, docs/emails.md). The override used is the sending
tenant's own, else its workspace's (a workspace's templates apply to every child tenant
that has none of its own), else the shipped default; each part falls back on its own.
Values are HTML-escaped in the HTML part; the text part and the subject are plain.

Names: `welcome`, `login`, `reset`, `invite`, `verify`, `code` (plus `code.sms`).
Callers pass the flat values `workspace_name`, `tenant_name`, `user_name`, `user_email`,
`user_username`, `link`, `verification_code`, `expires_in`, `expires_at`; templates see
them under the §6.3 names too (`workspace.name`, `verificationCode`, ...).

Request code does not call `send`: it writes `outbox.email_item(...)` in the same
transaction as the change that causes the email, and the publisher sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portcullis.messaging import emailtemplates
from portcullis.messaging.emailtemplates import UnknownTemplate
from portcullis.platform import aws, config
from portcullis.store import tenants as tenant_store
from portcullis.tenancy import settings

__all__ = ["UnknownTemplate", "override_for", "render", "render_sms", "send", "sender_for"]


def override_for(
    mode: str | None, tenant: tenant_store.TenantItem | None, template_type: str
) -> dict[str, str] | None:
    """The tenant's own override of `template_type`, else its workspace's, else None."""
    if mode is None or tenant is None:
        return None
    from portcullis.store import emailtemplates as store

    tenant_ids = [tenant.tenantId]
    if tenant.ancestors:
        tenant_ids.append(tenant.ancestors[-1])
    found = store.first_of(mode, tenant_ids, template_type)
    return dict(found.parts or {}) if found is not None else None


def render(
    template_name: str,
    variables: Mapping[str, Any],
    *,
    mode: str | None = None,
    tenant: tenant_store.TenantItem | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of one email type, with `tenant`'s override when it has one."""
    parts = emailtemplates.render(
        template_name, variables, override_for(mode, tenant, template_name)
    )
    return parts["subject"], parts["text"], parts["html"]


def render_sms(
    template_name: str,
    variables: Mapping[str, Any],
    *,
    mode: str | None = None,
    tenant: tenant_store.TenantItem | None = None,
) -> str:
    sms_type = f"{template_name}.sms"
    parts = emailtemplates.render(sms_type, variables, override_for(mode, tenant, sms_type))
    return parts["text"].strip()


def sender_for(mode: str, tenant: tenant_store.TenantItem) -> str:
    """The tenant's `senderEmail`, else its workspace's, else the deployment's SENDER_EMAIL.

    A configured address is used only while its domain is still allowed for the
    workspace (`senders`): an operator removing a domain stops it at the next email.
    """
    from portcullis.messaging import senders  # imported here: only sending an email needs it

    workspace_id = senders.workspace_of(tenant)
    own = settings.read(mode, tenant.tenantId).senderEmail
    chosen = senders.sender_if_allowed(own, workspace_id)
    if chosen is None and tenant.ancestors:
        root = settings.read(mode, workspace_id).senderEmail
        chosen = senders.sender_if_allowed(root, workspace_id)
    return chosen or config.sender_email()


def _tag(value: str) -> str:
    """SES tag values allow letters, digits, `_`, `-`, `.`, `@` only."""
    return "".join(c if c.isalnum() or c in "_-.@" else "_" for c in value)[:256] or "_"


def send(
    to: str,
    subject: str,
    text: str,
    html: str,
    sender: str,
    *,
    mode: str | None = None,
    tenant_id: str | None = None,
) -> str:
    """Send one email through SES v2 with both parts; returns SES's message id.

    It goes out with the deployment's configuration set, tagged with the mode and
    tenant: a bounce or complaint event carries the tags back, which tells the
    bounce handler whose user to mark (portcullis/users/emailstatus.py).
    """
    request: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [to]},
        "Content": {
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": text, "Charset": "UTF-8"},
                    "Html": {"Data": html, "Charset": "UTF-8"},
                },
            }
        },
    }
    configuration_set = config.ses_configuration_set()
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    tags = [("mode", mode), ("tenantId", tenant_id)]
    email_tags = [{"Name": name, "Value": _tag(value)} for name, value in tags if value]
    if email_tags:
        request["EmailTags"] = email_tags
    response = aws.client("sesv2").send_email(**request)
    return str(response.get("MessageId", ""))
