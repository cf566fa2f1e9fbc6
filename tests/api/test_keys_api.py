"""API keys over HTTP: create, masked lists, verify, invalidate, delete, last-key rule."""

import re
import uuid

import pytest


def admin(workspace, mode: str = "test") -> str:
    return workspace.keys[mode]["admin"]


def new_child(api, workspace) -> str:
    response = api("POST", "/v0/tenants", key=admin(workspace), json={"name": uuid.uuid4().hex})
    assert response.status_code == 200, response.text
    return response.json()["tenantId"]


def create_key(api, key: str, key_type: str, tenant_id: str | None = None) -> dict:
    body = {"type": key_type, **({"tenantId": tenant_id} if tenant_id else {})}
    response = api("POST", "/v0/keys", key=key, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_shows_full_key_once_and_lists_mask_it(api, workspace) -> None:
    tenant = new_child(api, workspace)
    created = create_key(api, admin(workspace), "readonly", tenant)
    assert re.fullmatch(rf"uf_test_readonly_{tenant}_[0-9a-f]{{32}}", created["key"])
    assert created["isActive"] is True
    assert "isMasked" not in created

    listed = api("GET", f"/v0/tenants/{tenant}/keys/readonly", key=admin(workspace)).json()
    assert listed["totalCount"] == 1
    item = listed["results"][0]
    assert item["isMasked"] is True
    assert item["key"] == f"uf_test_readonly_{tenant}_****{created['key'][-4:]}"
    assert created["key"] not in str(listed)


def test_account_level_list_is_home_tenant_and_mode(api, workspace) -> None:
    listed = api("GET", "/v0/keys/admin", key=admin(workspace)).json()
    assert listed["results"]
    assert all(
        k["tenantId"] == workspace.tenant_id and k["mode"] == "test" for k in listed["results"]
    )
    assert all("****" in k["key"] for k in listed["results"])
    bad = api("GET", "/v0/keys/jwt", key=admin(workspace))
    assert bad.status_code == 400
    assert bad.json()["message"] == '"type" must be one of [admin, readonly, webhook]'


def test_created_key_mode_follows_the_caller(api, workspace) -> None:
    live = create_key(api, admin(workspace, "live"), "readonly")
    assert live["key"].startswith("uf_live_readonly_")
    assert live["mode"] == "live"


def test_verify_invalidate_delete_cycle(api, workspace) -> None:
    tenant = new_child(api, workspace)
    key = admin(workspace)
    readonly = create_key(api, key, "readonly", tenant)["key"]
    spare = create_key(api, key, "readonly", tenant)["key"]

    ok = api("POST", "/v0/keys/verify", key=key, json={"key": readonly})
    assert ok.status_code == 200
    assert ok.json() == {
        "message": "OK",
        "result": {"mode": "test", "type": "readonly", "tenantId": tenant, "isActive": True},
    }
    # the readonly key works as a credential for reads
    assert api("GET", f"/v0/tenants/{tenant}", key=readonly).status_code == 200

    invalidated = api("PUT", "/v0/keys/invalidate", key=key, json={"key": readonly})
    assert invalidated.status_code == 200
    assert invalidated.json()["result"]["isActive"] is False
    again = api("PUT", "/v0/keys/invalidate", key=key, json={"key": readonly})
    assert again.status_code == 200  # idempotent

    failed = api("POST", "/v0/keys/verify", key=key, json={"key": readonly})
    assert failed.status_code == 400
    assert failed.json()["message"] == "Invalid API key"
    assert failed.json()["result"]["isActive"] is False
    assert api("GET", f"/v0/tenants/{tenant}", key=readonly).status_code == 401

    listed = api("GET", f"/v0/tenants/{tenant}/keys/readonly", key=key).json()
    assert {k["isActive"] for k in listed["results"]} == {True, False}

    deleted = api("DELETE", "/v0/keys", key=key, json={"key": readonly})
    assert deleted.status_code == 200
    gone = api("POST", "/v0/keys/verify", key=key, json={"key": readonly})
    assert gone.status_code == 400
    assert "result" not in gone.json()
    listed = api("GET", f"/v0/tenants/{tenant}/keys/readonly", key=key).json()
    assert listed["totalCount"] == 1
    assert api("GET", f"/v0/tenants/{tenant}", key=spare).status_code == 200


def test_last_active_key_rule(api, workspace) -> None:
    tenant = new_child(api, workspace)
    key = admin(workspace)
    only = create_key(api, key, "webhook", tenant)["key"]
    refused = api("PUT", "/v0/keys/invalidate", key=key, json={"key": only})
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "Cannot invalidate the only active webhook API key. "
        "Please create another webhook API key, then try again."
    )
    refused = api("DELETE", "/v0/keys", key=key, json={"key": only})
    assert refused.json()["message"] == (
        "Cannot delete the only active webhook API key. "
        "Please create another webhook API key, then try again."
    )
    second = create_key(api, key, "webhook", tenant)["key"]
    assert api("PUT", "/v0/keys/invalidate", key=key, json={"key": only}).status_code == 200
    assert api("PUT", "/v0/keys/invalidate", key=key, json={"key": second}).status_code == 400
    # an invalid key may always be deleted
    assert api("DELETE", "/v0/keys", key=key, json={"key": only}).status_code == 200


def test_concurrent_invalidations_keep_one_active_key(api, workspace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tenant = new_child(api, workspace)
    key = admin(workspace)
    keys = [create_key(api, key, "readonly", tenant)["key"] for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        statuses = list(
            pool.map(
                lambda k: api("PUT", "/v0/keys/invalidate", key=key, json={"key": k}).status_code,
                keys,
            )
        )
    assert sorted(statuses) == [200, 200, 200, 400]
    listed = api("GET", f"/v0/tenants/{tenant}/keys/readonly", key=key).json()["results"]
    assert sum(k["isActive"] for k in listed) == 1


def test_a_key_cannot_verify_itself(api, workspace) -> None:
    response = api("POST", "/v0/keys/verify", key=admin(workspace), json={"key": admin(workspace)})
    assert response.status_code == 400
    assert response.json()["message"] == "An API key cannot be used to verify itself"


def test_keys_outside_scope_look_unknown(api, workspace) -> None:
    left, right = new_child(api, workspace), new_child(api, workspace)
    left_admin = create_key(api, admin(workspace), "admin", left)["key"]
    right_readonly = create_key(api, admin(workspace), "readonly", right)["key"]
    verify = api("POST", "/v0/keys/verify", key=left_admin, json={"key": right_readonly})
    assert verify.status_code == 400
    assert "result" not in verify.json()
    invalidate = api("PUT", "/v0/keys/invalidate", key=left_admin, json={"key": right_readonly})
    assert invalidate.status_code == 404
    assert (
        api("DELETE", "/v0/keys", key=left_admin, json={"key": right_readonly}).status_code == 404
    )
    # the live admin key cannot see test keys either
    cross = api(
        "POST", "/v0/keys/verify", key=admin(workspace, "live"), json={"key": right_readonly}
    )
    assert cross.status_code == 400
    assert api("GET", f"/v0/tenants/{right}/keys/admin", key=left_admin).status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "superuser"}, '"type" must be one of [admin, readonly, webhook]'),
        ({}, '"type" is required'),
        ({"type": "admin", "tenantId": "BAD"}, '"tenantId" has an invalid format'),
    ],
)
def test_create_validation(api, workspace, body: dict, message: str) -> None:
    response = api("POST", "/v0/keys", key=admin(workspace), json=body)
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_readonly_and_webhook_keys_cannot_manage_keys(api, workspace) -> None:
    readonly = workspace.keys["test"]["readonly"]
    assert api("POST", "/v0/keys", key=readonly, json={"type": "admin"}).status_code == 403
    assert api("GET", "/v0/keys/admin", key=readonly).status_code == 403
    webhook = workspace.keys["test"]["webhook"]
    response = api("GET", "/v0/keys/admin", key=webhook)
    assert response.status_code == 401
    assert response.json()["message"] == "Unauthorized"


def test_credential_errors(client, workspace) -> None:
    path = f"/v0/tenants/{workspace.tenant_id}"
    missing = client.get(path)
    assert missing.status_code == 401
    assert missing.json()["message"] == "Missing authentication"
    for value in [
        "Bearer nope",
        "Basic abc",
        "Bearer uf_test_admin_abcdefgh_" + "0" * 32,
        "Bearer a.b.c",
    ]:
        response = client.get(path, headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.json() == {
            "statusCode": 401,
            "message": "Unauthorized",
            "error": {"type": "bad_request_error"},
        }
