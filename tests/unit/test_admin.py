"""The operator command creates a working workspace and prints its keys once."""

import json

from portcullis import admin, keys, passwords
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
    tenant_id = json.loads(capsys.readouterr().out)["tenantId"]
    seeded = {u.username: u for u in user_store.iterate_users("test", tenant_id)}
    assert set(seeded) == {"admin", "member", "viewer", "unconfirmed"}
    assert seeded["admin"].roles == {tenant_id: ["admin"]}
    assert seeded["unconfirmed"].isEmailConfirmed is False
    assert seeded["member"].email == "member@example.com"
    assert seeded["viewer"].passwordHash.startswith("$argon2id$")
    assert passwords.verify(seeded["viewer"].passwordHash, "testmodepassword")
    assert list(user_store.iterate_users("live", tenant_id)) == []


def test_human_output_lists_every_key(aws: str, capsys) -> None:
    admin.main(["create-workspace", "--name", "Readable"])
    out = capsys.readouterr().out
    assert "shown once" in out
    assert out.count("uf_test_") == 3 and out.count("uf_live_") == 3
