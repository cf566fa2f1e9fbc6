"""Tenants over HTTP: create, nest, read, update, search, delete; scope between siblings."""

import uuid

import httpx
import pytest


def admin(workspace, mode: str = "test") -> str:
    return workspace.keys[mode]["admin"]


def new_tenant(api, key: str, parent: str | None = None, **fields) -> dict:
    body = {"name": fields.pop("name", f"T-{uuid.uuid4().hex[:8]}"), **fields}
    path = f"/v0/tenants/{parent}/tenants" if parent else "/v0/tenants"
    response = api("POST", path, key=key, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def child_admin_key(api, workspace, tenant_id: str, mode: str = "test") -> str:
    response = api(
        "POST",
        "/v0/keys",
        key=admin(workspace, mode),
        json={"type": "admin", "tenantId": tenant_id},
    )
    assert response.status_code == 200, response.text
    return response.json()["key"]


def test_create_read_update_child_tenant(api, workspace) -> None:
    key = admin(workspace)
    created = new_tenant(api, key, name="Acme", data={"plan": "pro", "seats": 3})
    assert created["parent"]["tenantId"] == workspace.tenant_id
    assert created["mode"] == "test"
    assert len(created["tenantId"]) == 8
    assert [r["name"] for r in created["roles"]][:3] == ["subscriber", "viewer", "contributor"]
    assert created["children"] == {"totalCount": 0, "totalPages": 0, "results": []}

    grandchild = new_tenant(api, key, parent=created["tenantId"], name="Acme EU")
    read = api("GET", f"/v0/tenants/{created['tenantId']}", key=key).json()
    assert read["children"]["totalCount"] == 1
    assert read["children"]["results"][0]["tenantId"] == grandchild["tenantId"]
    assert read["descendantCount"]["descendants"] == 1

    updated = api(
        "PUT",
        f"/v0/tenants/{created['tenantId']}",
        key=key,
        json={"name": "Acme Inc", "data": {"seats": None, "region": "eu"}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Acme Inc"
    assert updated.json()["data"] == {"plan": "pro", "region": "eu"}


def test_update_needs_a_field(api, workspace) -> None:
    tenant = new_tenant(api, admin(workspace))
    response = api("PUT", f"/v0/tenants/{tenant['tenantId']}", key=admin(workspace), json={})
    assert response.status_code == 400
    assert response.json()["message"] == "At least one field is required"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, '"name" is required'),
        ({"name": 5}, '"name" must be a string'),
        ({"name": ""}, '"name" must contain at least 1 characters'),
        ({"name": "x" * 201}, '"name" must contain at most 200 characters'),
        ({"name": "Acme\u0000"}, '"name" has an invalid format'),
        ({"name": "Acme\nInc"}, '"name" has an invalid format'),
        ({"name": "\u007f"}, '"name" has an invalid format'),
        ({"name": "x", "image": "ftp://nope"}, '"image" has an invalid format'),
        ({"name": "x", "data": []}, '"data" must be an object'),
        ({"name": "x", "owner": "me"}, '"owner" is not allowed'),
    ],
)
def test_create_validation_names_the_field(api, workspace, body: dict, message: str) -> None:
    response = api("POST", "/v0/tenants", key=admin(workspace), json=body)
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "message": message,
        "error": {"type": "bad_request_error"},
    }


def test_bad_json_is_a_400(client, workspace) -> None:
    response = client.post(
        "/v0/tenants",
        content=b"{not json",
        headers={"Authorization": f"Bearer {admin(workspace)}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["message"] == '"body" must be valid JSON'


def test_siblings_cannot_reach_each_other(api, workspace) -> None:
    key = admin(workspace)
    left = new_tenant(api, key)
    right = new_tenant(api, key)
    left_key = child_admin_key(api, workspace, left["tenantId"])
    for method, path, body in [
        ("GET", f"/v0/tenants/{right['tenantId']}", None),
        ("PUT", f"/v0/tenants/{right['tenantId']}", {"name": "pwned"}),
        ("DELETE", f"/v0/tenants/{right['tenantId']}", None),
        ("POST", f"/v0/tenants/{right['tenantId']}/tenants", {"name": "x"}),
        ("GET", f"/v0/tenants/{workspace.tenant_id}", None),
        ("GET", f"/v0/tenants/{right['tenantId']}/settings", None),
    ]:
        response = api(method, path, key=left_key, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["message"] == "Forbidden"
    # an unknown tenant in valid format answers exactly like a sibling
    assert api("GET", "/v0/tenants/zzzz9999", key=left_key).status_code == 403
    # a malformed id is a 404
    assert api("GET", "/v0/tenants/NOT-AN-ID", key=left_key).status_code == 404
    # its own subtree is fine
    assert api("GET", f"/v0/tenants/{left['tenantId']}", key=left_key).status_code == 200


def test_modes_are_isolated(api, workspace) -> None:
    tenant = new_tenant(api, admin(workspace, "test"))
    response = api("GET", f"/v0/tenants/{tenant['tenantId']}", key=admin(workspace, "live"))
    assert response.status_code == 403
    live = api("GET", f"/v0/tenants/{workspace.tenant_id}", key=admin(workspace, "live")).json()
    assert live["mode"] == "live"
    assert tenant["tenantId"] not in {c["tenantId"] for c in live["children"]["results"]}


def test_readonly_key_reads_but_never_writes(api, workspace) -> None:
    key = workspace.keys["test"]["readonly"]
    assert api("GET", f"/v0/tenants/{workspace.tenant_id}", key=key).status_code == 200
    found = api("POST", f"/v0/tenants/{workspace.tenant_id}/tenants/find", key=key, json={})
    assert found.status_code == 200
    for method, path, body in [
        ("POST", "/v0/tenants", {"name": "x"}),
        ("PUT", f"/v0/tenants/{workspace.tenant_id}", {"name": "x"}),
        ("GET", f"/v0/tenants/{workspace.tenant_id}/settings", None),
    ]:
        assert api(method, path, key=key, json=body).status_code == 403


def test_search_children_with_filters(api, workspace) -> None:
    key = admin(workspace)
    parent = new_tenant(api, key)
    tag = uuid.uuid4().hex[:6]
    for index, name in enumerate(["Alpha", "Beta", "Gamma"]):
        new_tenant(api, key, parent=parent["tenantId"], name=f"{name} {tag}", data={"n": index})
    body = {
        "order": "name_DESC",
        "filters": {
            "conjunction": "and",
            "filterGroups": [
                {
                    "conjunction": "or",
                    "filters": [
                        {
                            "attr": "name",
                            "type": "string",
                            "comparison": "starts with",
                            "value": "al",
                        },
                        {"attr": "data.n", "type": "number", "comparison": "more than", "value": 1},
                    ],
                }
            ],
        },
    }
    response = api("POST", f"/v0/tenants/{parent['tenantId']}/tenants/find", key=key, json=body)
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["totalCount"] == 2
    assert [t["name"] for t in found["results"]] == [f"Gamma {tag}", f"Alpha {tag}"]
    assert found["meta"]["page"] == 1

    bad = api(
        "POST",
        f"/v0/tenants/{parent['tenantId']}/tenants/find",
        key=key,
        json={"filters": {"conjunction": "xor", "filterGroups": []}},
    )
    assert bad.status_code == 400
    assert '"filters.conjunction"' in bad.json()["message"]


def test_delete_rules(api, workspace) -> None:
    key = admin(workspace)
    parent = new_tenant(api, key)
    child = new_tenant(api, key, parent=parent["tenantId"])
    refused = api("DELETE", f"/v0/tenants/{parent['tenantId']}", key=key)
    assert refused.status_code == 400
    assert refused.json()["message"] == "Delete child tenants first"
    own = api("DELETE", f"/v0/tenants/{workspace.tenant_id}", key=key)
    assert own.status_code == 400
    assert own.json()["message"] == "Cannot delete the tenant that owns this API key"

    gone = api("DELETE", f"/v0/tenants/{child['tenantId']}", key=key)
    assert gone.status_code == 200
    assert gone.json()["tenantId"] == child["tenantId"]
    assert api("GET", f"/v0/tenants/{child['tenantId']}", key=key).status_code == 403
    assert api("DELETE", f"/v0/tenants/{parent['tenantId']}", key=key).status_code == 200


def test_deleted_tenant_keys_stop_working(api, workspace) -> None:
    tenant = new_tenant(api, admin(workspace))
    key = child_admin_key(api, workspace, tenant["tenantId"])
    assert api("GET", f"/v0/tenants/{tenant['tenantId']}", key=key).status_code == 200
    assert (
        api("DELETE", f"/v0/tenants/{tenant['tenantId']}", key=admin(workspace)).status_code == 200
    )
    assert api("GET", f"/v0/tenants/{tenant['tenantId']}", key=key).status_code == 401


def test_trailing_slash_is_the_same_path(api, workspace) -> None:
    response = api("GET", f"/v0/tenants/{workspace.tenant_id}/", key=admin(workspace))
    assert response.status_code == 200


def test_response_is_json_utf8(client: httpx.Client, workspace) -> None:
    response = client.get(
        f"/v0/tenants/{workspace.tenant_id}",
        headers={"Authorization": f"Bearer {admin(workspace)}"},
    )
    assert response.headers["content-type"].startswith("application/json")


def test_name_cannot_be_removed_and_data_is_size_limited(api, workspace) -> None:
    key = workspace.keys["test"]["admin"]
    tid = api("POST", "/v0/tenants", key=key, json={"name": "Limits"}).json()["tenantId"]
    nulled = api("PUT", f"/v0/tenants/{tid}", key=key, json={"name": None})
    assert nulled.status_code == 400, nulled.text
    assert "name" in nulled.json()["message"]
    big = {"blob": "x" * (70 * 1024)}
    assert api("PUT", f"/v0/tenants/{tid}", key=key, json={"data": big}).status_code == 400
    assert api("POST", "/v0/tenants", key=key, json={"name": "Big", "data": big}).status_code == 400
    renamed = api("PUT", f"/v0/tenants/{tid}", key=key, json={"name": "Still works"})
    assert renamed.status_code == 200, renamed.text
