"""The operator command creates a working workspace and prints its keys once."""

import json

from portcullis import admin
from portcullis.access import apikeys as keys
from portcullis.credentials import passwords
from portcullis.store import tenants as tenant_store
from portcullis.store import users as user_store


def test_create_workspace_json(aws: str, capsys) -> None:
    assert admin.main(["create-workspace", "--name", "Ops", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    tenant_id = printed["tenantId"]
    assert printed["name"] == "Ops"
    for mode in ("test", "live"):
        assert tenant_store.get_tenant(mode, tenant_id) is not None
        for key_type in ("admin", "readonly", "webhook"):
            key = printed["keys"][mode][key_type]
            stored = keys.lookup(key)
            assert stored is not None and stored.isActive and stored.keyType == key_type
            assert key not in json.dumps(stored.attribute_values)  # only the digest is kept


def test_seeded_test_users(aws: str, capsys) -> None:
    admin.main(["create-workspace", "--name", "Seeds", "--json"])
    printed = json.loads(capsys.readouterr().out)
    tenant_id, seed_password = printed["tenantId"], printed["seedPassword"]
    seeded = {u.username: u for u in user_store.iterate_users("test", tenant_id)}
    assert set(seeded) == {"admin", "member", "viewer", "unconfirmed"}
    assert seeded["admin"].roles == {tenant_id: ["admin"]}
    assert seeded["unconfirmed"].isEmailConfirmed is False
    assert seeded["member"].email == "member@example.com"
    assert seeded["viewer"].passwordHash.startswith("$argon2id$")
    assert passwords.verify(seeded["viewer"].passwordHash, seed_password)
    assert not passwords.verify(seeded["viewer"].passwordHash, "testmodepassword")
    assert list(user_store.iterate_users("live", tenant_id)) == []


def test_human_output_lists_every_key(aws: str, capsys) -> None:
    admin.main(["create-workspace", "--name", "Readable"])
    out = capsys.readouterr().out
    assert "shown once" in out
    assert out.count("uf_test_") == 3 and out.count("uf_live_") == 3
    assert "password:" in out


def test_every_workspace_gets_its_own_seed_password(aws: str, capsys) -> None:
    passwords_seen = set()
    for name in ("One", "Two"):
        admin.main(["create-workspace", "--name", name, "--json"])
        seed_password = json.loads(capsys.readouterr().out)["seedPassword"]
        assert len(seed_password) >= 16
        passwords_seen.add(seed_password)
    assert len(passwords_seen) == 2


def test_replace_seed_password(aws: str, capsys) -> None:
    admin.main(["create-workspace", "--name", "Rotate", "--json"])
    printed = json.loads(capsys.readouterr().out)
    tenant_id, first = printed["tenantId"], printed["seedPassword"]
    assert admin.main(["replace-seed-password", "--tenant-id", tenant_id, "--json"]) == 0
    replaced = json.loads(capsys.readouterr().out)
    assert replaced["usernames"] == ["admin", "member", "viewer", "unconfirmed"]
    second = replaced["seedPassword"]
    assert second != first
    for user in user_store.iterate_users("test", tenant_id):
        assert passwords.verify(user.passwordHash, second)
        assert not passwords.verify(user.passwordHash, first)
    assert admin.main(["replace-seed-password", "--tenant-id", "zzzz0000"]) == 1


def test_sender_domain_commands(aws: str, capsys) -> None:
    admin.main(["create-workspace", "--name", "Senders", "--json"])
    tenant_id = json.loads(capsys.readouterr().out)["tenantId"]
    base = ["--tenant-id", tenant_id, "--json"]
    assert admin.main(["allow-sender-domain", "--domain", "Mail.Acme.example", *base]) == 0
    assert json.loads(capsys.readouterr().out)["domains"] == ["mail.acme.example"]
    assert admin.main(["allow-sender-domain", "--domain", "b.example", *base]) == 0
    capsys.readouterr()
    assert admin.main(["remove-sender-domain", "--domain", "mail.acme.example", *base]) == 0
    assert json.loads(capsys.readouterr().out)["domains"] == ["b.example"]
    assert admin.main(["sender-domains", "--tenant-id", tenant_id]) == 0
    assert "b.example" in capsys.readouterr().out
    assert admin.main(["allow-sender-domain", "--domain", "co.uk", *base]) == 1
    assert "public suffix" in capsys.readouterr().err
    assert admin.main(["sender-domains", "--tenant-id", "zzzz0000"]) == 1
    assert "not a workspace" in capsys.readouterr().err
