"""Search as a lever for load (issue 8, item 8), over HTTP.

- A child tenant's rate limits never exceed its parent's: a settings change above the
  parent is a 400 naming the field, and a limit the parent undercuts later is clamped
  where it is enforced (the per-credential buckets) and shown clamped.
- A non-exact user search reads a bounded window of the tenant and answers a
  continuation for the rest (a runtime of its own with `SearchScanLimit=3`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from authkit import bearer, error, unique_email

from infra.local.process import RuntimeProcess

ABOVE_DEFAULT = {"limit": 1000, "windowSeconds": 2}  # the default is 200 per 2 s


def _tenant(api: Any, key: str, parent: str | None = None) -> str:
    path = f"/v0/tenants/{parent}/tenants" if parent else "/v0/tenants"
    created = api("POST", path, key=key, json={"name": "Load"})
    assert created.status_code == 200, created.text
    return str(created.json()["tenantId"])


def _admin_key(api: Any, key: str, tenant_id: str) -> str:
    made = api("POST", "/v0/keys", key=key, json={"type": "admin", "tenantId": tenant_id})
    assert made.status_code == 200, made.text
    return str(made.json()["key"])


def _limits(api: Any, key: str, tenant_id: str, **limits: dict[str, int]) -> httpx.Response:
    return api("PUT", f"/v0/tenants/{tenant_id}/settings", key=key, json={"rateLimits": limits})


def test_a_child_admin_cannot_raise_its_limits_above_the_parents(api: Any, workspace: Any) -> None:
    child = _tenant(api, workspace.key("test", "admin"))
    own_key = _admin_key(api, workspace.key("test", "admin"), child)
    defaults = {"requestsPerCredential": "200 per 2", "searchesPerCredential": "40 per 2"}
    for name, default in defaults.items():
        refused = _limits(api, own_key, child, **{name: ABOVE_DEFAULT})
        message = error(refused, 400)["message"]
        assert message == (
            f'"rateLimits.{name}" cannot exceed the parent tenant\'s limit ({default} seconds)'
        )
    # A higher rate in a shorter window is refused too, even with a smaller burst.
    faster = _limits(api, own_key, child, searchesPerCredential={"limit": 30, "windowSeconds": 1})
    error(faster, 400)
    # Nothing was written; what the parent allows (or less) is accepted.
    shown = api("GET", f"/v0/tenants/{child}/settings", key=own_key).json()["rateLimits"]
    assert shown["requestsPerCredential"] == {"limit": 200, "windowSeconds": 2}
    lower = {"limit": 100, "windowSeconds": 2}
    accepted = _limits(api, own_key, child, requestsPerCredential=lower)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["rateLimits"]["requestsPerCredential"] == lower


def test_a_grandchild_is_bounded_by_its_parent_not_only_the_workspace(
    api: Any, workspace: Any
) -> None:
    admin = workspace.key("test", "admin")
    parent = _tenant(api, admin)
    assert _limits(api, admin, parent, sendPerIp={"limit": 5, "windowSeconds": 900}).is_success
    grandchild = _tenant(api, admin, parent=parent)
    refused = _limits(api, admin, grandchild, sendPerIp={"limit": 6, "windowSeconds": 900})
    error(
        refused,
        400,
        '"rateLimits.sendPerIp" cannot exceed the parent tenant\'s limit (5 per 900 seconds)',
    )


def test_limits_a_parent_lowers_later_are_clamped_where_they_count(
    api: Any, workspace: Any
) -> None:
    admin = workspace.key("test", "admin")
    parent = _tenant(api, admin)
    child = _tenant(api, admin, parent=parent)
    child_key = _admin_key(api, admin, child)
    allowed = {"limit": 30, "windowSeconds": 2}
    assert _limits(api, admin, child, searchesPerCredential=allowed).is_success
    lowered = {"limit": 2, "windowSeconds": 3600}
    assert _limits(api, admin, parent, searchesPerCredential=lowered).is_success

    shown = api("GET", f"/v0/tenants/{child}/settings", key=child_key)
    assert shown.json()["rateLimits"]["searchesPerCredential"] == lowered
    statuses = [
        api("POST", f"/v0/tenants/{child}/users/find", key=child_key, json={}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


# ------------------------------------------------------------------ bounded search


@pytest.fixture(scope="module")
def small_window(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    """A runtime whose user search reads at most 3 users per request."""
    data_dir: Path = tmp_path_factory.mktemp("portcullis-window")
    with RuntimeProcess(data_dir, parameters={"SearchScanLimit": "3"}) as process:
        yield process


def test_a_search_reads_a_window_and_answers_a_continuation(small_window: RuntimeProcess) -> None:
    assert small_window.workspace is not None
    key = small_window.workspace.key("test", "admin")
    with httpx.Client(base_url=small_window.base_url, timeout=30, headers=bearer(key)) as http:
        tenant = http.post("/v0/tenants", json={"name": "Window"}).json()["tenantId"]
        made = [
            http.post(f"/v0/tenants/{tenant}/users", json={"email": unique_email("w")})
            for _ in range(7)
        ]
        assert all(r.status_code == 200 for r in made), [r.text for r in made]
        ids = sorted(r.json()["userId"] for r in made)

        seen: list[int] = []
        body: dict[str, Any] = {"order": "userId_ASC"}
        windows = 0
        while True:
            found = http.post(f"/v0/tenants/{tenant}/users/find", json=body)
            assert found.status_code == 200, found.text
            page = found.json()
            windows += 1
            assert len(page["results"]) <= 3 and page["totalCount"] == len(page["results"])
            seen += [user["userId"] for user in page["results"]]
            token = page["meta"].get("continuation")
            if token is None:
                break
            body = {"order": "userId_ASC", "continuation": token}
        assert seen == ids and windows == 3

        # The GET listing takes it from the query string; a forged token is a 400.
        first = http.get(f"/v0/tenants/{tenant}/users", params={"order": "userId_ASC"}).json()
        second = http.get(
            f"/v0/tenants/{tenant}/users",
            params={"order": "userId_ASC", "continuation": first["meta"]["continuation"]},
        ).json()
        assert [u["userId"] for u in second["results"]] == ids[3:6]
        for bad in ("nope", "YWZ0ZXI6eA", 5, "a" * 65):
            refused = http.post(f"/v0/tenants/{tenant}/users/find", json={"continuation": bad})
            error(refused, 400, '"continuation" is invalid')
        # Exact lookups still find any user in one read, however far it is.
        exact = http.post(
            f"/v0/tenants/{tenant}/users/find",
            json={
                "filters": {
                    "conjunction": "and",
                    "filterGroups": [
                        {
                            "conjunction": "and",
                            "filters": [
                                {
                                    "attr": "userId",
                                    "type": "number",
                                    "comparison": "is",
                                    "value": ids[-1],
                                }
                            ],
                        }
                    ],
                }
            },
        ).json()
        assert [u["userId"] for u in exact["results"]] == [ids[-1]]
        assert "continuation" not in exact["meta"]


def test_a_tenant_search_reads_a_window_of_children_too(small_window: RuntimeProcess) -> None:
    assert small_window.workspace is not None
    key = small_window.workspace.key("test", "admin")
    with httpx.Client(base_url=small_window.base_url, timeout=30, headers=bearer(key)) as http:
        parent = http.post("/v0/tenants", json={"name": "Parent"}).json()["tenantId"]
        made = [
            http.post(f"/v0/tenants/{parent}/tenants", json={"name": f"Child {n}"})
            for n in range(5)
        ]
        assert all(r.status_code == 200 for r in made), [r.text for r in made]
        seen: list[str] = []
        body: dict[str, Any] = {}
        while True:
            found = http.post(f"/v0/tenants/{parent}/tenants/find", json=body)
            assert found.status_code == 200, found.text
            page = found.json()
            assert len(page["results"]) <= 3
            seen += [tenant["tenantId"] for tenant in page["results"]]
            token = page["meta"].get("continuation")
            if token is None:
                break
            body = {"continuation": token}
        assert sorted(seen) == sorted(r.json()["tenantId"] for r in made)
        # A user-search token is no tenant position.
        users = http.post("/v0/users/find", json={}).json()["meta"].get("continuation")
        forged = users or "YWZ0ZXI6MTI"
        refused = http.post(f"/v0/tenants/{parent}/tenants/find", json={"continuation": forged})
        error(refused, 400, '"continuation" is invalid')
