"""The senderEmail rules of `messaging.senders` and `mail.sender_for` (issue 8 item 12)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portcullis.messaging import mail, senders
from portcullis.platform.errors import BadRequest, Forbidden
from portcullis.tenancy import settings
from portcullis.tenants import service as tenants


@dataclass
class FakeScope:
    """Stands in for `callers.Caller`: only `can_reach` matters to the rule."""

    admin_of: set[str]

    def can_reach(self, tenant_id: str, level: str = "read") -> bool:
        return tenant_id in self.admin_of


@pytest.fixture(scope="module")
def family(aws: str) -> dict[str, object]:
    workspace = tenants.create("live", "Senders unit")
    tenants.create("test", "Senders unit", tenant_id=workspace.tenantId)
    child = tenants.create("live", "Child", parent=workspace)
    other = tenants.create("live", "Other workspace")
    senders.allow_domain(workspace.tenantId, "acme-mail.example")
    return {"workspace": workspace, "child": child, "other": other}


def test_workspace_of_is_the_top_level_tenant(family) -> None:
    workspace, child = family["workspace"], family["child"]
    assert senders.workspace_of(workspace) == workspace.tenantId
    assert senders.workspace_of(child) == workspace.tenantId


def test_allowed_domains_are_per_workspace_plus_the_deployment(family, monkeypatch) -> None:
    workspace, other = family["workspace"].tenantId, family["other"].tenantId
    assert senders.is_allowed("hello@ACME-mail.example", workspace)
    assert not senders.is_allowed("hello@acme-mail.example", other)
    assert not senders.is_allowed("hello@sub.acme-mail.example", workspace)
    assert not senders.is_allowed("hello@acme-mail.example.evil.example", workspace)
    monkeypatch.setenv("SENDER_DOMAINS", "shared.example, Other.Example")
    assert senders.is_allowed("a@other.example", other)
    assert senders.is_allowed("a@shared.example", workspace)
    monkeypatch.setenv("SENDER_EMAIL", "no-reply@deployment.example")
    assert senders.is_allowed("No-Reply@deployment.example", other)
    assert not senders.is_allowed("ceo@deployment.example", other)


def test_only_a_workspace_admin_changes_the_sender(family) -> None:
    workspace, child = family["workspace"], family["child"]
    child_admin = FakeScope({child.tenantId})
    workspace_admin = FakeScope({workspace.tenantId, child.tenantId})
    with pytest.raises(Forbidden) as refused:
        senders.check_settings_change(child_admin, child, {"senderEmail": "a@acme-mail.example"})
    assert refused.value.message == senders.NOT_WORKSPACE_ADMIN
    with pytest.raises(BadRequest) as bad:
        senders.check_settings_change(workspace_admin, child, {"senderEmail": "a@evil.example"})
    assert bad.value.message == senders.DOMAIN_NOT_ALLOWED
    senders.check_settings_change(workspace_admin, child, {"senderEmail": "a@acme-mail.example"})
    senders.check_settings_change(workspace_admin, child, {"senderEmail": None})
    senders.check_settings_change(child_admin, child, {"loginRedirectPath": "/home"})
    settings.update("live", child.tenantId, {"senderEmail": "a@acme-mail.example"})
    # The stored value sent back unchanged is no change.
    senders.check_settings_change(child_admin, child, {"senderEmail": "a@acme-mail.example"})
    with pytest.raises(Forbidden):
        senders.check_settings_change(child_admin, child, {"senderEmail": None})
    settings.update("live", child.tenantId, {"senderEmail": None})


def test_sender_for_falls_back_when_a_domain_is_removed(family, monkeypatch) -> None:
    monkeypatch.setenv("SENDER_EMAIL", "no-reply@deployment.example")
    workspace, child = family["workspace"], family["child"]
    senders.allow_domain(workspace.tenantId, "removable.example")
    settings.update("live", workspace.tenantId, {"senderEmail": "root@acme-mail.example"})
    settings.update("live", child.tenantId, {"senderEmail": "child@removable.example"})
    assert mail.sender_for("live", child) == "child@removable.example"
    senders.remove_domain(workspace.tenantId, "removable.example")
    assert mail.sender_for("live", child) == "root@acme-mail.example"
    senders.remove_domain(workspace.tenantId, "acme-mail.example")
    assert mail.sender_for("live", child) == "no-reply@deployment.example"
    assert mail.sender_for("live", workspace) == "no-reply@deployment.example"
    senders.allow_domain(workspace.tenantId, "acme-mail.example")
    settings.update("live", child.tenantId, {"senderEmail": None})


def test_operator_commands_refuse_what_is_not_a_workspace_or_a_domain(family) -> None:
    with pytest.raises(ValueError, match="not a workspace"):
        senders.allow_domain(family["child"].tenantId, "acme-mail.example")
    with pytest.raises(ValueError, match="not a workspace"):
        senders.allow_domain("zzzz0000", "acme-mail.example")
    for bad in ("localhost", "com", "https://acme.example", "acme.example/x", "10.0.0.1"):
        with pytest.raises(ValueError):
            senders.allow_domain(family["workspace"].tenantId, bad)
    own, _ = senders.list_domains(family["workspace"].tenantId)
    assert own == {"acme-mail.example"}
