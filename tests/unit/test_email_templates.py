"""Email templates (issue 11): Jinja2 in its sandbox, the shipped defaults, what a
tenant admin may save, tenant overrides and the suppression of bounced addresses.

Rendering needs no AWS; overrides, suppression and the user's `emailStatus` run
against the moto server of `conftest.aws`.
"""

from __future__ import annotations

import json
import uuid

import pytest

from portcullis.messaging import emailtemplates as et
from portcullis.messaging import mail

SCRIPT = "<script>alert(1)</script>"

# Templates that try to reach Python internals, each refused when it is saved.
ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ user['__class__'] }}",
    "{{ user|attr('__class__') }}",
    "{{ user.mro() }}",
    "{{ '{0.__class__}'.format(user) }}",
    "{% set k = '__cla' ~ 'ss__' %}{{ user[k] }}",
    "{% for c in range(10) %}{{ c }}{% endfor %}",
    "{% include '/etc/passwd' %}",
    "{% import 'x' as y %}",
    "{{ 'a' * 100000000 }}",
    "{{ 9 ** 999999 }}",
    "{{ self.__init__ }}",
    "{{ config }}",
    "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "{% for a in link %}{% for b in link %}x{% endfor %}{% endfor %}",
    "{{ ('x' * 10000) * 10000 }}",
    "{{ user.name.ljust(1000000000) }}",
    "{{ link.replace('a', 'a' * 9000) }}",
    "{{ ('x' * 5000)|list|join('y' * 5000) }}",
    "{{ 'x'|center(100000000) }}",
    "{{ '%099999999d'|format(1) }}",
    "{{ user.name|safe }}",
    "{{ user() }}",
    "{% if user.name == 'nobody' %}{{ user.name.zfill(999999999) }}{% endif %}",
]


def values(**extra: str) -> dict[str, str]:
    return {**et.SAMPLE, **extra}


@pytest.mark.parametrize("template_type", et.TYPES)
def test_every_default_renders_with_its_variables_and_no_placeholder_left(
    template_type: str,
) -> None:
    rendered = et.render(template_type, values(workspace_name="Acme Ltd"))
    assert set(rendered) == set(et.parts_of(template_type))
    for part, text in rendered.items():
        assert text.strip(), part
        assert "{{" not in text and "{%" not in text and "${" not in text, (part, text)
        assert "Acme Ltd" in text, (part, text)
    if template_type == "code" or template_type == "code.sms":
        assert "123456" in rendered["text"]
    else:
        assert et.SAMPLE["link"] in rendered["text"]  # the link is in both parts
        assert et.SAMPLE["link"].replace("&", "&amp;") in rendered["html"]


def test_a_value_holding_a_script_is_escaped_in_html_and_not_in_text() -> None:
    subject, text, html = mail.render("welcome", values(user_name=SCRIPT, workspace_name=SCRIPT))
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f"Hi {SCRIPT}," in text
    assert SCRIPT in subject
    override = {"html": "<p>{{ user.name }}</p>", "text": "{{ user.name }}"}
    parts = et.render("login", values(user_name=SCRIPT), override)
    assert parts["html"] == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert parts["text"] == SCRIPT


def test_a_subject_stays_one_line_whatever_the_values() -> None:
    subject, _, _ = mail.render("login", values(workspace_name="Acme\r\nBcc: x@evil.example"))
    assert "\n" not in subject and "\r" not in subject
    assert subject == "Your Acme Bcc: x@evil.example login link"


def test_the_earlier_variable_names_still_work() -> None:
    source = "{{ workspace_name }}|{{ user_greeting }}|{{ verification_code }}|{{ expires_in }}"
    parts = et.render("code", values(user_name=""), {"text": source})
    assert parts["text"] == "Acme|jane@example.com|123456|1 hour"
    parts = et.render("code", values(), {"text": "{{ user.username }} {{ expiresAt }}"})
    assert parts["text"] == "jane 2030-01-01T00:00:00.000Z"


@pytest.mark.parametrize("source", ESCAPES)
@pytest.mark.parametrize("part", ["subject", "html", "text"])
def test_templates_that_reach_internals_are_refused_at_save_time(source: str, part: str) -> None:
    with pytest.raises(et.TemplateProblem) as refused:
        et.validate("login", part, source)
    assert refused.value.field == part
    assert refused.value.message.startswith(f'"{part}"')


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{% set k = '__cla' ~ 'ss__' %}{{ user[k] }}",
        "{{ user.__class__.__init__.__globals__ }}",
    ],
)
def test_a_template_that_skipped_the_check_still_cannot_render_internals(source: str) -> None:
    """Defence in depth: a stored template is validated, but the sandbox alone refuses
    too: the render fails (and a send falls back to the shipped part)."""
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        et._render_part(source, "text", et.context(values()))
    assert et.render("login", values(), {"text": source}) == et.render("login", values())


def test_a_stored_part_that_fails_when_sent_falls_back_to_the_default() -> None:
    """Save-time checks render one set of values; a branch not taken then may still fail
    later. The email still goes out, with the shipped part instead."""
    override = {"subject": "S {{ verificationCode }}", "text": "{{ 'x' * 20000 }}"}
    parts = et.render("code", values(), override)
    assert parts["subject"] == "S 123456"
    assert parts["text"] == et.render("code", values())["text"]


def test_templates_an_author_may_save() -> None:
    good = [
        "Hi {{ user.name or user.email or 'there' }}, welcome to {{ workspace.name }}",
        "{% if user.name %}{{ user.name|upper }}{% else %}friend{% endif %} {{ link }}",
        "{{ verificationCode }} expires in {{ expiresIn }} ({{ expiresAt }})",
        "{{ tenant.name|e }} {{ brand.color|default('blue') }} {{ workspace.image }}",
        "{% for word in user.name.split(' ') %}[{{ word }}]{% endfor %}",
    ]
    for source in good:
        et.validate("login", "text", source)


@pytest.mark.parametrize(
    ("part", "source", "message"),
    [
        ("subject", "x" * (et.MAX_SUBJECT + 1), f'"subject" must be at most {et.MAX_SUBJECT}'),
        ("html", "x" * (et.MAX_BODY + 1), f'"html" must be at most {et.MAX_BODY}'),
        ("text", "{{ password }}", '"text" uses an unknown variable "password"'),
        ("text", "{{ user.name ", '"text" is not a valid template'),
        ("subject", "   ", '"subject" must not be empty'),
        ("html", 42, '"html" must be a string'),
        ("text", "{{ link|nosuchfilter }}", '"text" uses an unknown filter'),
    ],
)
def test_bad_templates_are_refused_naming_the_part(part: str, source: object, message: str) -> None:
    with pytest.raises(et.TemplateProblem) as refused:
        et.validate("login", part, source)
    assert refused.value.field == part
    assert refused.value.message.startswith(message)


def test_an_sms_template_is_text_only_and_short() -> None:
    assert et.parts_of("code.sms") == ("text",)
    with pytest.raises(et.TemplateProblem):
        et.validate("code.sms", "text", "x" * (et.MAX_SMS + 1))
    sms = mail.render_sms("code", values(workspace_name="Acme"))
    assert sms == "Your Acme verification code is 123456. It expires in 1 hour."
    with pytest.raises(et.UnknownTemplate):
        et.parts_of("nope")


# ----------------------------------------------------------------- against moto


@pytest.fixture
def tenants(aws: str):
    """A workspace and a child tenant (live), made directly in the store."""
    from portcullis.store import tenants as tenant_store

    def make(ancestors: list[str]):
        tenant_id = uuid.uuid4().hex[:8]
        return tenant_store.TenantItem(
            tenant_store.tenant_pk("live", tenant_id),
            tenant_store.TENANT_SK,
            type="tenant",
            tenantId=tenant_id,
            mode="live",
            uuid=str(uuid.uuid4()),
            name="T",
            ancestors=ancestors,
            createdAt="2026-01-01T00:00:00.000Z",
            updatedAt="2026-01-01T00:00:00.000Z",
        )

    workspace = make([])
    child = make([workspace.tenantId])
    return workspace, child


def test_the_tenant_override_wins_then_the_workspace_then_the_default(tenants) -> None:
    from portcullis.store import emailtemplates as store

    workspace, child = tenants
    default_subject = mail.render("login", values())[0]
    assert mail.render("login", values(), mode="live", tenant=child)[0] == default_subject
    store.put("live", workspace.tenantId, "login", {"subject": "W {{ workspace.name }}"}, "t")
    assert mail.render("login", values(), mode="live", tenant=child)[0] == "W Acme"
    assert mail.render("login", values(), mode="live", tenant=workspace)[0] == "W Acme"
    store.put("live", child.tenantId, "login", {"subject": "C {{ link }}"}, "t")
    subject, text, _ = mail.render("login", values(), mode="live", tenant=child)
    assert subject == f"C {et.SAMPLE['link']}"
    assert text == et.render("login", values())["text"]  # parts not set: the default
    assert mail.render("login", values(), mode="test", tenant=child)[0] == default_subject
    assert store.delete("live", child.tenantId, "login")
    assert not store.delete("live", child.tenantId, "login")
    assert mail.render("login", values(), mode="live", tenant=child)[0] == "W Acme"


def test_a_bounced_address_is_marked_and_the_outbox_skips_it(aws: str) -> None:
    import boto3

    from portcullis.messaging import outbox
    from portcullis.store import emailstatus
    from portcullis.store import outbox as outbox_store
    from portcullis.users import emailstatus as handler

    boto3.client("ses", endpoint_url=aws).verify_email_identity(EmailAddress="no-reply@x.example")
    address = f"Bounce-{uuid.uuid4().hex[:8]}@example.com"
    soft = {
        "eventType": "Bounce",
        "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": address}]},
        "mail": {"tags": {}},
    }
    record = {"Sns": {"Message": json.dumps(soft)}}
    assert handler.handle_sns_records([record, {"Sns": {"Message": "not json"}}]) == 0
    assert emailstatus.get(address) is None  # a soft bounce stops nothing

    hard = {**soft, "bounce": {**soft["bounce"], "bounceType": "Permanent"}}
    assert handler.handle_sns_records([{"Sns": {"Message": json.dumps(hard)}}]) == 1
    marked = emailstatus.get(address.lower())
    assert marked is not None and marked.status == "bounced"

    item = outbox.email_item(
        mode="live",
        tenant_id="abcdefgh",
        to=address,
        subject="s",
        text="t",
        html="h",
        sender="no-reply@x.example",
        template="login",
    )
    outbox.enqueue([item])
    assert outbox.deliver(item)
    kept = outbox_store.OutboxItem.get(item.pk, item.sk)
    assert kept.payload["skipped"] == "bounced" and "messageId" not in kept.payload
    assert "sealed" not in kept.payload


def test_the_operator_sees_and_lifts_a_suppression(aws: str, capsys) -> None:
    from portcullis import admin
    from portcullis.store import emailstatus

    address = f"op-{uuid.uuid4().hex[:8]}@example.com"
    emailstatus.mark(address, "complained", "2026-01-01T00:00:00.000Z", "abuse")
    emailstatus.mark(address, "bounced", "2026-01-02T00:00:00.000Z")  # a complaint is kept
    assert admin.main(["email-status", "--email", address.upper(), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["emailStatus"]["status"] == "complained" and not shown["cleared"]
    assert admin.main(["email-status", "--email", address, "--clear", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cleared"] is True
    assert emailstatus.get(address) is None


def test_jinja2_is_loaded_by_the_first_render_not_by_importing_the_auth_function() -> None:
    """Jinja2 costs ~50 ms to import: the auth function's cold start must not pay it."""
    import os
    import textwrap

    from freshprocess import ROOT, run_json

    code = textwrap.dedent(
        """
        import json, sys
        import app
        before = "jinja2" in sys.modules
        from portcullis.messaging import mail
        mail.render("login", {"workspace_name": "Acme", "link": "https://x.example/"})
        print(json.dumps({"before": before, "after": "jinja2" in sys.modules,
                          "mail": "portcullis.messaging.mail" in sys.modules}))
        """
    )
    env = dict(os.environ, TABLE_NAME="portcullis-lazy", AWS_DEFAULT_REGION="us-east-1")
    result = run_json(code, env, ROOT / "functions" / "auth")
    assert result == {"before": False, "after": True, "mail": True}
