"""Email: template rendering and the SES (sesv2) adapter (concepts §6.1, §6.3).

Templates are files in `portcullis/messaging/templates/`: `<name>.subject.txt`, `<name>.txt`
and `<name>.html`, with `string.Template` placeholders (`${link}`), so an operator can
reword them without touching code and without a template language that can execute
anything. Every value is HTML-escaped in the HTML part; the text part is plain.

Names: `welcome`, `login`, `reset`, `invite`, `verify`, `code` (plus `code.sms.txt` for
SMS). Variables: `workspace_name`, `tenant_name`, `user_name`, `user_email`,
`user_username`, `user_greeting` (name, else email, else "there"), `link`,
`verification_code`, `expires_in` (e.g. "3 days"), `expires_at`. Missing ones render
as empty text.

Request code does not call `send`: it writes `outbox.email_item(...)` in the same
transaction as the change that causes the email, and the publisher sends it.
"""

from __future__ import annotations

import html as html_lib
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from portcullis.platform import aws, config
from portcullis.store import tenants as tenant_store
from portcullis.tenancy import settings

TEMPLATE_DIR = Path(__file__).parent / "templates"
VARIABLES: tuple[str, ...] = (
    "workspace_name",
    "tenant_name",
    "user_name",
    "user_email",
    "user_username",
    "user_greeting",
    "link",
    "verification_code",
    "expires_in",
    "expires_at",
)


class UnknownTemplate(LookupError):
    pass


@cache
def _template(file_name: str) -> Template:
    path = TEMPLATE_DIR / file_name
    if not path.is_file() or path.parent != TEMPLATE_DIR:
        raise UnknownTemplate(file_name)
    return Template(path.read_text(encoding="utf-8"))


def _values(variables: dict[str, Any]) -> dict[str, str]:
    values = {name: "" for name in VARIABLES}
    values.update({k: "" if v is None else str(v) for k, v in variables.items()})
    if not values["user_greeting"]:
        values["user_greeting"] = values["user_name"] or values["user_email"] or "there"
    if not values["tenant_name"]:
        values["tenant_name"] = values["workspace_name"]
    return values


def render(template_name: str, variables: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of one email type."""
    values = _values(variables)
    escaped = {k: html_lib.escape(v, quote=True) for k, v in values.items()}
    # A subject is one header line: a newline in a tenant name must not start another.
    subject = " ".join(_template(f"{template_name}.subject.txt").substitute(values).split())
    text = _template(f"{template_name}.txt").substitute(values)
    body = _template(f"{template_name}.html").substitute(escaped)
    return subject, text, body


def render_sms(template_name: str, variables: dict[str, Any]) -> str:
    return _template(f"{template_name}.sms.txt").substitute(_values(variables)).strip()


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


def send(to: str, subject: str, text: str, html: str, sender: str) -> str:
    """Send one email through SES v2 with both parts; returns SES's message id."""
    response = aws.client("sesv2").send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [to]},
        Content={
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": text, "Charset": "UTF-8"},
                    "Html": {"Data": html, "Charset": "UTF-8"},
                },
            }
        },
    )
    return str(response.get("MessageId", ""))
