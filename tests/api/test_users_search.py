"""User search over HTTP (§7.5, §1.11): every comparison, conjunctions, roles, ordering,
paging, exact lookups, the GET listing and the 400s that name the offending path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from test_users_support import Tenant, assert_error, new_tenant, one_filter, unique


@dataclass(frozen=True)
class World:
    tenant: Tenant
    child_id: str
    users: dict[str, dict[str, Any]]


class Http:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def __call__(
        self, method: str, path: str, key: str | None = None, json: Any = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.client.request(method, path, json=json, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def world(base_url: str, workspace: Any) -> Iterator[World]:
    """Four users with varied fields in a fresh tenant (read-only for every test)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        http = Http(client)
        tenant = new_tenant(http, workspace.keys["test"]["admin"])
        tag = unique("")
        specs = {
            "alice": {
                "email": f"alice{tag}@corp.example.com",
                "username": f"Alice{tag}",
                "name": "Alice Anders",
                "phoneNumber": "+15550000001",
                "data": {
                    "plan": "pro",
                    "tags": ["a", "b"],
                    "score": 10,
                    "vip": True,
                    "address": {"city": "Paris"},
                },
                "roles": ["admin"],
                "isEmailConfirmed": True,
            },
            "bob": {
                "email": f"bob{tag}@example.com",
                "username": f"bob{tag}",
                "name": "Bob Brown",
                "data": {"plan": "free", "tags": ["b"], "score": 5},
                "roles": ["member", "editor"],
                "locked": True,
            },
            "carol": {"email": f"carol{tag}@corp.example.com", "isMfaRequired": True},
            "dave": {
                "username": f"dave{tag}",
                "phoneNumber": "+15550000004",
                "name": "Dave",
                "data": {"plan": "pro", "score": 20, "signup": "2020-01-01T00:00:00.000Z"},
            },
        }
        users = {}
        for name, body in specs.items():
            response = http("POST", "/v0/users", key=tenant.admin, json=body)
            assert response.status_code == 200, response.text
            users[name] = response.json()
        active = http("POST", f"/v0/users/{users['alice']['userId']}/active", key=tenant.admin)
        assert active.status_code == 200
        child = http("POST", "/v0/tenants", key=tenant.admin, json={"name": "Search child"})
        child_id = child.json()["tenantId"]
        role = http(
            "PUT",
            f"/v0/tenants/{child_id}/users/{users['alice']['userId']}/roles",
            key=tenant.admin,
            json={"roles": ["viewer"]},
        )
        assert role.status_code == 200, role.text
        yield World(tenant, child_id, users)


def names(world: World, response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    by_uuid = {u["userUuid"]: n for n, u in world.users.items()}
    return [by_uuid[r["userUuid"]] for r in response.json()["results"]]


def find(api: Any, world: World, body: Any, key: str | None = None) -> httpx.Response:
    return api("POST", "/v0/users/find", key=key or world.tenant.readonly, json=body)


def search(
    api: Any, world: World, attr: str, ftype: str, comparison: str, value: Any = None
) -> set[str]:
    response = find(api, world, one_filter(attr, ftype, comparison, value))
    return set(names(world, response))


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ------------------------------------------------------------------------- comparisons


def test_string_comparisons(api: Any, world: World) -> None:
    alice = world.users["alice"]
    assert search(api, world, "email", "string", "is", alice["email"].upper()) == {"alice"}
    assert search(api, world, "name", "string", "is", "alice anders") == set()  # case-sensitive
    assert search(api, world, "name", "string", "is", "Alice Anders") == {"alice"}
    assert search(api, world, "name", "string", "contains", "BROWN") == {"bob"}
    assert search(api, world, "email", "string", "does not contain", "corp") == {"bob", "dave"}
    assert search(api, world, "name", "string", "starts with", "da") == {"dave"}
    assert search(api, world, "email", "string", "ends with", "@corp.example.com") == {
        "alice",
        "carol",
    }
    assert search(api, world, "username", "string", "is unknown") == {"carol"}
    assert search(api, world, "phoneNumber", "string", "has any value") == {"alice", "dave"}
    assert search(api, world, "data.plan", "string", "is", "pro") == {"alice", "dave"}
    assert search(api, world, "data.address.city", "string", "is", "Paris") == {"alice"}


def test_boolean_comparisons(api: Any, world: World) -> None:
    assert search(api, world, "locked", "boolean", "is", True) == {"bob"}
    assert search(api, world, "locked", "boolean", "is not", True) == {"alice", "carol", "dave"}
    assert search(api, world, "isMfaRequired", "boolean", "is", True) == {"carol"}
    assert search(api, world, "isConfirmed", "boolean", "is", True) == {"alice"}
    assert search(api, world, "isEmailConfirmed", "boolean", "is not", False) == {"alice"}
    assert search(api, world, "data.vip", "boolean", "is", False) == {"bob", "carol", "dave"}


def test_number_comparisons(api: Any, world: World) -> None:
    assert search(api, world, "data.score", "number", "is", 10) == {"alice"}
    assert search(api, world, "data.score", "number", "more than", 5) == {"alice", "dave"}
    assert search(api, world, "data.score", "number", "less than", 10) == {"bob"}
    dave_id = world.users["dave"]["userId"]
    assert search(api, world, "userId", "number", "is", dave_id) == {"dave"}


def test_date_comparisons(api: Any, world: World) -> None:
    now = datetime.now(UTC)
    everyone = {"alice", "bob", "carol", "dave"}
    assert (
        search(api, world, "createdAt", "date", "before", iso(now + timedelta(days=1))) == everyone
    )
    assert search(api, world, "createdAt", "date", "after", "2000-01-01") == everyone
    window = [iso(now - timedelta(days=1)), iso(now + timedelta(days=1))]
    assert search(api, world, "createdAt", "date", "between", window) == everyone
    start_end = {"start": iso(now + timedelta(days=1)), "end": iso(now + timedelta(days=2))}
    assert search(api, world, "updatedAt", "date", "between", start_end) == set()
    assert search(api, world, "createdAt", "date", "less than", 7) == everyone
    assert search(api, world, "createdAt", "date", "more than", 1) == set()
    assert search(api, world, "lastActiveAt", "date", "after", "2000-01-01") == {"alice"}
    assert search(api, world, "data.signup", "date", "before", "2021-01-01") == {"dave"}


def test_array_comparisons(api: Any, world: World) -> None:
    assert search(api, world, "data.tags", "array", "contains", "a") == {"alice"}
    assert search(api, world, "data.tags", "array", "does not contain", "a") == {
        "bob",
        "carol",
        "dave",
    }
    assert search(api, world, "data.tags", "array", "any", ["a", "zzz"]) == {"alice"}
    assert search(api, world, "data.tags", "array", "any") == {"alice", "bob"}


def test_role_filters(api: Any, world: World) -> None:
    tid = world.tenant.tenant_id
    assert search(api, world, "role", "string", "is", f"{tid}:admin") == {"alice"}
    assert search(api, world, "role", "string", "is", f"{tid} : editor") == {"bob"}
    assert search(api, world, "role", "string", "is", tid) == {"alice", "bob"}
    assert search(api, world, "role", "string", "is", f"{world.child_id}:viewer") == {"alice"}
    assert search(api, world, "role", "string", "has any value") == {"alice", "bob"}
    # A tenant outside the caller's scope matches nothing rather than failing.
    assert search(api, world, "role", "string", "is", "zzzzzzz9:admin") == set()


# ------------------------------------------------------------------------- combining


def test_conjunctions_and_groups(api: Any, world: World) -> None:
    body = {
        "filters": {
            "conjunction": "and",
            "filterGroups": [
                {
                    "conjunction": "or",
                    "filters": [
                        {"attr": "data.plan", "type": "string", "comparison": "is", "value": "pro"},
                        {"attr": "locked", "type": "boolean", "comparison": "is", "value": True},
                    ],
                },
                {
                    "conjunction": "and",
                    "filters": [
                        {"attr": "email", "type": "string", "comparison": "has any value"},
                    ],
                },
            ],
        }
    }
    assert set(names(world, find(api, world, body))) == {"alice", "bob"}
    body["filters"]["conjunction"] = "or"
    assert set(names(world, find(api, world, body))) == {"alice", "bob", "carol", "dave"}
    empty = {"filters": {"conjunction": "and", "filterGroups": []}}
    assert len(names(world, find(api, world, empty))) == 4


def test_search_text_order_and_paging(api: Any, world: World) -> None:
    assert set(names(world, find(api, world, {"search": "CORP"}))) == {"alice", "carol"}
    assert (
        names(world, find(api, world, {"search": str(world.users["dave"]["userId"])}))[0] == "dave"
    )
    ordered = names(world, find(api, world, {"order": "name_ASC"}))
    assert ordered == ["carol", "alice", "bob", "dave"]  # carol's name is "" (sorts first)
    by_score = names(world, find(api, world, {"order": "data.score_DESC"}))
    assert by_score == ["dave", "alice", "bob", "carol"]  # missing values last
    default = names(world, find(api, world, {}))
    assert default == ["dave", "carol", "bob", "alice"]  # createdAt_DESC
    page = find(api, world, {"order": "userId_ASC", "page": 2, "limit": 3}).json()
    assert page["totalCount"] == 4 and page["totalPages"] == 2
    assert page["meta"] == {"page": 2, "pageSize": 3, "count": 1, "totalCount": 4, "totalPages": 2}
    past = find(api, world, {"page": 9}).json()
    assert (past["results"], past["totalCount"], past["totalPages"]) == ([], 4, 1)


def test_get_listing_takes_query_parameters(api: Any, world: World) -> None:
    response = api(
        "GET",
        "/v0/users",
        key=world.tenant.readonly,
        params={"page": "1", "limit": "2", "order": "userId_ASC", "search": ""},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totalCount"] == 4 and len(body["results"]) == 2
    assert names(world, response) == ["alice", "bob"]
    tenant_level = api(
        "GET",
        f"/v0/tenants/{world.tenant.tenant_id}/users",
        key=world.tenant.readonly,
        params={"search": "bob"},
    )
    assert names(world, tenant_level) == ["bob"]
    assert_error(
        api("GET", "/v0/users", key=world.tenant.readonly, params={"limit": "500"}),
        400,
        '"limit" must be between 1 and 100',
    )


def test_exact_lookups_by_email_username_phone_and_uuid(api: Any, world: World) -> None:
    alice, dave = world.users["alice"], world.users["dave"]
    cases = [
        ("email", alice["email"].upper(), {"alice"}),
        ("username", alice["username"].lower(), {"alice"}),
        ("phoneNumber", dave["phoneNumber"], {"dave"}),
        ("userUuid", dave["userUuid"], {"dave"}),
        ("email", "nobody@example.com", set()),
    ]
    for attr, value, expected in cases:
        assert search(api, world, attr, "string", "is", value) == expected, attr
    full = find(api, world, one_filter("email", "string", "is", alice["email"])).json()
    assert full["results"][0]["authorization"][world.tenant.tenant_id]["roles"] == ["admin"]
    assert full["results"][0]["authorization"][world.child_id]["roles"] == ["viewer"]
    assert full["meta"]["count"] == 1


def test_search_sees_only_the_tenants_own_users(api: Any, world: World, workspace: Any) -> None:
    everyone = api("POST", "/v0/users/find", key=workspace.keys["test"]["readonly"], json={}).json()
    assert not {u["userUuid"] for u in everyone["results"]} & {
        u["userUuid"] for u in world.users.values()
    }
    alice = world.users["alice"]
    body = one_filter("email", "string", "is", alice["email"])
    assert (
        api("POST", "/v0/users/find", key=workspace.keys["test"]["admin"], json=body).json()[
            "totalCount"
        ]
        == 0
    )


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (one_filter("password", "string", "is", "x"), '"attr" password is not searchable'),
        (one_filter("data.", "string", "is", "x"), '"attr" data. is not searchable'),
        (
            one_filter("email", "string", "equals", "x"),
            '"filters.filterGroups[0].filters[0].comparison" must be one of '
            "[is, contains, does not contain, starts with, ends with, is unknown, has any value]",
        ),
        (
            one_filter("email", "color", "is", "x"),
            '"filters.filterGroups[0].filters[0].type" must be one of '
            "[string, boolean, number, date, array]",
        ),
        (
            one_filter("locked", "boolean", "is", "yes"),
            '"filters.filterGroups[0].filters[0].value" must be a boolean',
        ),
        (
            one_filter("createdAt", "date", "before", "yesterday"),
            '"filters.filterGroups[0].filters[0].value" must be an ISO 8601 date or datetime',
        ),
        (
            one_filter("role", "string", "contains", "x"),
            '"filters.filterGroups[0].filters[0].comparison" must be one of [is, has any value]',
        ),
        ({"filters": {"filterGroups": []}}, '"filters.conjunction" is required'),
        (
            {"filters": {"conjunction": "xor", "filterGroups": []}},
            '"filters.conjunction" must be one of [and, or]',
        ),
        ({"order": "role_ASC"}, '"order" cannot sort by role'),
        ({"order": "nonsense"}, '"order" must be <attr>_ASC or <attr>_DESC'),
        ({"page": 0}, '"page" must be a positive integer'),
        ({"limit": 101}, '"limit" must be between 1 and 100'),
        ({"unknown": 1}, '"unknown" is not allowed'),
        ([], '"body" must be an object'),
    ],
)
def test_malformed_searches_are_400_naming_the_problem(
    api: Any, world: World, body: Any, message: str
) -> None:
    assert_error(find(api, world, body), 400, message)


def test_search_needs_a_credential(api: Any) -> None:
    assert_error(api("POST", "/v0/users/find", json={}), 401, "Missing authentication")


def test_exact_lookups_of_impossible_values_find_nobody(api: Any, world: World) -> None:
    """Values no record can hold never become (over-long) DynamoDB keys: no match, no 500."""
    for attr, ftype, value in [
        ("userId", "number", 10**99),
        ("email", "string", "x" * 5000 + "@example.com"),
        ("username", "string", "u" * 5000),
        ("userUuid", "string", "0" * 5000),
    ]:
        assert search(api, world, attr, ftype, "is", value) == set()
    # Integers over 100 digits are refused while the body is parsed (docs/differences.md).
    assert_error(
        find(api, world, one_filter("userId", "number", "is", 10**1100)),
        400,
        '"filters.filterGroups[0].filters[0].value" must be an integer of at most 100 digits',
    )
