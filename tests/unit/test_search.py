"""Search request parsing, filter semantics, ordering and paging (api-server §1.9, §1.11)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portcullis.platform.errors import BadRequest
from portcullis.search import query as search_mod
from portcullis.search.query import (
    TENANT_CATALOG,
    USER_CATALOG,
    Catalog,
    SearchRequest,
    list_envelope,
    order_and_page,
    parse_search_request,
)

FIXED_NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def one_filter(
    attr: str, ftype: str, comparison: str, value: Any = None, *, omit_value: bool = False
) -> dict[str, Any]:
    flt: dict[str, Any] = {"attr": attr, "type": ftype, "comparison": comparison}
    if not omit_value:
        flt["value"] = value
    return {
        "filters": {
            "conjunction": "and",
            "filterGroups": [{"conjunction": "and", "filters": [flt]}],
        }
    }


def matches(
    record: dict[str, Any],
    attr: str,
    ftype: str,
    comparison: str,
    value: Any = None,
    *,
    catalog: Catalog = USER_CATALOG,
    roles: dict[str, list[str]] | None = None,
    omit_value: bool = False,
) -> bool:
    req = parse_search_request(
        one_filter(attr, ftype, comparison, value, omit_value=omit_value), catalog
    )
    return req.matches(record, roles or {})


def bad(body: Any, catalog: Catalog = USER_CATALOG, **kwargs: Any) -> str:
    with pytest.raises(BadRequest) as info:
        parse_search_request(body, catalog, **kwargs)
    assert info.value.status_code == 400
    return info.value.message


# ------------------------------------------------------------------ defaults


@pytest.mark.parametrize("body", [None, {}])
def test_empty_body_matches_all_with_defaults(body: dict[str, Any] | None) -> None:
    req = parse_search_request(body, USER_CATALOG)
    assert (req.page, req.limit, req.order_attr, req.order_desc) == (1, 50, "createdAt", True)
    assert req.search is None
    assert req.needs_roles is False
    assert req.matches({}, {})
    assert req.matches({"email": "x@example.com"}, {})


def test_explicit_nulls_mean_defaults() -> None:
    req = parse_search_request(
        {"filters": None, "order": None, "page": None, "limit": None, "search": None},
        USER_CATALOG,
    )
    assert (req.page, req.limit, req.order_attr, req.order_desc) == (1, 50, "createdAt", True)


def test_page_and_limit_accept_decimal_strings_for_query_strings() -> None:
    req = parse_search_request({"page": "3", "limit": " 20 "}, USER_CATALOG)
    assert (req.page, req.limit, req.offset) == (3, 20, 40)


def test_catalog_default_order_is_used() -> None:
    catalog = Catalog(
        attributes={"name": "string"},
        allow_data=False,
        allow_role=False,
        case_insensitive_is=frozenset(),
        tiebreak="name",
        default_order="name_ASC",
    )
    req = parse_search_request({}, catalog)
    assert (req.order_attr, req.order_desc) == ("name", False)


# ------------------------------------------------------------- string filters

USER = {
    "userId": 5,
    "email": "jane@example.com",
    "username": "Jane.Doe",
    "name": "Jane Doe",
    "image": None,
    "phoneNumber": "",
    "locked": True,
    "isMfaRequired": False,
    "createdAt": "2024-05-15T23:04:50.787Z",
    "lastActiveAt": None,
    "data": {
        "plan": "Pro",
        "seats": 3,
        "beta": True,
        "tags": ["a", "b", 1],
        "empty": [],
        "address": {"city": "Paris", "zip": "75001"},
        "renewal": "2024-07-01",
    },
}

STRING_CASES: list[tuple[str, str, Any, bool]] = [
    # attr, comparison, value, expected
    ("email", "is", "JANE@example.com", True),  # case-insensitive attr
    ("username", "is", "jane.doe", True),  # case-insensitive attr
    ("name", "is", "jane doe", False),  # case-sensitive otherwise
    ("name", "is", "Jane Doe", True),
    ("data.plan", "is", "pro", False),
    ("data.plan", "is", "Pro", True),
    ("email", "contains", "EXAMPLE", True),
    ("email", "contains", "nope", False),
    ("image", "contains", "x", False),  # null never matches a positive comparison
    ("email", "does not contain", "nope", True),
    ("email", "does not contain", "Example", False),
    ("image", "does not contain", "x", True),  # null
    ("phoneNumber", "does not contain", "5", True),
    ("data.missing", "does not contain", "x", True),  # missing
    ("email", "starts with", "JANE@", True),
    ("email", "starts with", "example", False),
    ("email", "ends with", "@EXAMPLE.COM", True),
    ("email", "ends with", "jane", False),
    ("image", "is unknown", None, True),  # null
    ("phoneNumber", "is unknown", None, True),  # ""
    ("data.missing", "is unknown", None, True),  # missing
    ("email", "is unknown", None, False),
    ("image", "has any value", None, False),
    ("phoneNumber", "has any value", None, False),
    ("email", "has any value", None, True),
    ("userId", "has any value", None, True),  # non-string but present
    ("data.address.city", "is", "Paris", True),
    ("data.address.city", "starts with", "par", True),
    ("data.address.zip.deeper", "is", "x", False),  # digging through a string
    ("data.plan.deeper", "is unknown", None, True),
    # wrong runtime type: never matches, never raises
    ("userId", "is", "5", False),
    ("userId", "contains", "5", False),
    ("userId", "does not contain", "9", False),
    ("locked", "starts with", "t", False),
    ("data.tags", "contains", "a", False),
    ("userId", "is unknown", None, False),
]


@pytest.mark.parametrize(("attr", "comparison", "value", "expected"), STRING_CASES)
def test_string_comparisons(attr: str, comparison: str, value: Any, expected: bool) -> None:
    assert matches(USER, attr, "string", comparison, value) is expected


def test_is_unknown_and_has_any_value_ignore_the_value() -> None:
    assert matches(USER, "image", "string", "is unknown", {"whatever": [1]})
    assert matches(USER, "email", "string", "has any value", omit_value=True)


def test_tenant_catalog_is_case_sensitive_for_every_attr() -> None:
    tenant = {"tenantId": "demo1234", "name": "Acme"}
    assert matches(tenant, "name", "string", "is", "Acme", catalog=TENANT_CATALOG)
    assert not matches(tenant, "name", "string", "is", "acme", catalog=TENANT_CATALOG)
    assert matches(tenant, "tenantId", "string", "is", "demo1234", catalog=TENANT_CATALOG)


# ------------------------------------------------------------ boolean filters

BOOLEAN_CASES: list[tuple[str, str, bool, bool]] = [
    ("locked", "is", True, True),
    ("locked", "is", False, False),
    ("locked", "is not", False, True),
    ("locked", "is not", True, False),
    ("isMfaRequired", "is", False, True),
    ("isMfaRequired", "is not", True, True),
    ("isEmailConfirmed", "is", False, True),  # missing counts as false
    ("isEmailConfirmed", "is", True, False),
    ("isEmailConfirmed", "is not", True, True),
    ("isEmailConfirmed", "is not", False, False),
    ("data.beta", "is", True, True),
    ("data.seats", "is", True, False),  # 3 is not a boolean
    ("data.seats", "is not", True, False),  # wrong runtime type matches nothing
    ("email", "is", False, False),
]


@pytest.mark.parametrize(("attr", "comparison", "value", "expected"), BOOLEAN_CASES)
def test_boolean_comparisons(attr: str, comparison: str, value: bool, expected: bool) -> None:
    assert matches(USER, attr, "boolean", comparison, value) is expected


# ------------------------------------------------------------- number filters

NUMBER_CASES: list[tuple[str, str, Any, bool]] = [
    ("userId", "is", 5, True),
    ("userId", "is", 5.0, True),
    ("userId", "is", 6, False),
    ("userId", "more than", 4, True),
    ("userId", "more than", 5, False),
    ("userId", "less than", 6, True),
    ("userId", "less than", 5, False),
    ("data.seats", "more than", 2.5, True),
    ("data.missing", "less than", 100, False),  # missing never matches
    ("data.beta", "is", 1, False),  # True is not a number
    ("data.plan", "more than", 0, False),  # string is not a number
    ("userId", "is", 10**400, False),  # huge ints are valid and compare exactly
]


@pytest.mark.parametrize(("attr", "comparison", "value", "expected"), NUMBER_CASES)
def test_number_comparisons(attr: str, comparison: str, value: Any, expected: bool) -> None:
    assert matches(USER, attr, "number", comparison, value) is expected


def test_nan_record_value_matches_nothing() -> None:
    record = {"data": {"n": float("nan")}}
    for comparison in ("is", "more than", "less than"):
        assert not matches(record, "data.n", "number", comparison, 1)


# --------------------------------------------------------------- date filters

DATE_CASES: list[tuple[str, str, Any, bool]] = [
    ("createdAt", "before", "2024-05-16", True),  # date-only = 00:00:00Z
    ("createdAt", "before", "2024-05-15", False),
    ("createdAt", "after", "2024-05-15", True),
    ("createdAt", "after", "2024-05-15T23:04:50.787Z", False),  # strict
    ("createdAt", "before", "2024-05-15T23:04:50.787Z", False),
    ("createdAt", "after", "2024-05-16T01:00:00+02:00", True),  # offsets honoured
    ("createdAt", "between", ["2024-05-15", "2024-05-16"], True),
    ("createdAt", "between", {"start": "2024-05-15", "end": "2024-05-16"}, True),
    ("createdAt", "between", ["2024-05-15T23:04:50.787Z", "2024-05-15T23:04:50.787Z"], True),
    ("createdAt", "between", ["2024-05-16", "2024-05-17"], False),
    ("createdAt", "between", ["2024-05-16", "2024-05-15"], False),  # reversed: empty
    ("lastActiveAt", "before", "2999-01-01", False),  # null
    ("lastActiveAt", "more than", 1, False),
    ("updatedAt", "after", "2000-01-01", False),  # missing
    ("data.renewal", "after", "2024-06-30T23:59:59Z", True),
    ("data.renewal", "before", "2024-07-01T00:00:01Z", True),
    ("data.plan", "before", "2999-01-01", False),  # not a date
    ("data.seats", "after", "1970-01-01", False),  # not a date
    ("createdAt", "less than", 30, True),  # created 17 days before FIXED_NOW
    ("createdAt", "less than", 7, False),
    ("createdAt", "more than", 7, True),
    ("createdAt", "more than", 30, False),
    ("createdAt", "more than", 0.5, True),
    ("createdAt", "less than", 10**12, True),  # absurd windows clamp, never raise
    ("createdAt", "more than", 1e300, False),
]


@pytest.mark.parametrize(("attr", "comparison", "value", "expected"), DATE_CASES)
def test_date_comparisons(
    monkeypatch: pytest.MonkeyPatch, attr: str, comparison: str, value: Any, expected: bool
) -> None:
    monkeypatch.setattr(search_mod, "now", lambda: FIXED_NOW)
    assert matches(USER, attr, "date", comparison, value) is expected


def test_relative_date_boundaries_use_now_minus_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_mod, "now", lambda: FIXED_NOW)
    week_ago = FIXED_NOW - timedelta(days=7)
    just_inside = {"createdAt": iso(week_ago + timedelta(seconds=1))}
    exactly = {"createdAt": iso(week_ago)}
    just_outside = {"createdAt": iso(week_ago - timedelta(seconds=1))}
    assert matches(just_inside, "createdAt", "date", "less than", 7)
    assert not matches(exactly, "createdAt", "date", "less than", 7)
    assert not matches(exactly, "createdAt", "date", "more than", 7)
    assert matches(just_outside, "createdAt", "date", "more than", 7)


def test_relative_dates_against_the_real_clock() -> None:
    recent = {"createdAt": iso(datetime.now(UTC) - timedelta(days=2))}
    assert matches(recent, "createdAt", "date", "less than", 7)
    assert not matches(recent, "createdAt", "date", "more than", 7)


def test_datetime_objects_in_records_are_dates() -> None:
    record = {"createdAt": datetime(2024, 1, 1, 12, 0)}  # naive means UTC
    assert matches(record, "createdAt", "date", "after", "2024-01-01T11:59:59Z")
    assert not matches(record, "createdAt", "date", "after", "2024-01-01T12:00:00Z")


# -------------------------------------------------------------- array filters

ARRAY_CASES: list[tuple[str, str, Any, bool]] = [
    ("data.tags", "contains", "a", True),
    ("data.tags", "contains", "A", False),  # exact
    ("data.tags", "contains", 1, True),
    ("data.tags", "contains", 1.0, True),
    ("data.tags", "contains", True, False),  # True is not 1
    ("data.tags", "contains", "1", False),  # "1" is not 1
    ("data.missing", "contains", "a", False),
    ("data.plan", "contains", "P", False),  # a string is not an array
    ("data.tags", "does not contain", "z", True),
    ("data.tags", "does not contain", "a", False),
    ("data.missing", "does not contain", "a", True),
    ("data.empty", "does not contain", "a", True),
    ("data.plan", "does not contain", "z", False),  # wrong runtime type
    ("data.tags", "any", ["z", "b"], True),
    ("data.tags", "any", ["z", "y"], False),
    ("data.tags", "any", [True], False),
    ("data.empty", "any", ["a"], False),
    ("data.missing", "any", ["a"], False),
    ("data.tags", "any", None, True),  # no value: non-empty array
    ("data.tags", "any", [], True),  # empty value behaves like no value
    ("data.empty", "any", None, False),
    ("data.missing", "any", None, False),
    ("data.plan", "any", None, False),
]


@pytest.mark.parametrize(("attr", "comparison", "value", "expected"), ARRAY_CASES)
def test_array_comparisons(attr: str, comparison: str, value: Any, expected: bool) -> None:
    assert matches(USER, attr, "array", comparison, value) is expected


def test_array_any_with_omitted_value() -> None:
    assert matches(USER, "data.tags", "array", "any", omit_value=True)
    assert not matches(USER, "data.empty", "array", "any", omit_value=True)


# ------------------------------------------------------------- conjunctions


def body_with(conjunction: str, groups: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    return {
        "filters": {
            "conjunction": conjunction,
            "filterGroups": [{"conjunction": c, "filters": fs} for c, fs in groups],
        }
    }


T = {"attr": "email", "type": "string", "comparison": "contains", "value": "jane"}
F = {"attr": "email", "type": "string", "comparison": "contains", "value": "zzz"}

CONJUNCTION_CASES: list[tuple[str, list[tuple[str, list[dict[str, Any]]]], bool]] = [
    ("and", [("and", [T, T])], True),
    ("and", [("and", [T, F])], False),
    ("and", [("or", [T, F])], True),
    ("and", [("or", [F, F])], False),
    ("and", [("or", [T]), ("or", [F])], False),
    ("or", [("or", [T]), ("or", [F])], True),
    ("or", [("and", [T, F]), ("and", [F])], False),
    ("or", [("and", [T, F]), ("and", [T, T])], True),
    ("and", [], True),  # empty filterGroups matches everything
    ("or", [], True),
]


@pytest.mark.parametrize(("conjunction", "groups", "expected"), CONJUNCTION_CASES)
def test_conjunctions_at_both_levels(
    conjunction: str, groups: list[tuple[str, list[dict[str, Any]]]], expected: bool
) -> None:
    req = parse_search_request(body_with(conjunction, groups), USER_CATALOG)
    assert req.matches(USER, {}) is expected


def test_spec_example_body() -> None:
    body = {
        "order": "createdAt_DESC",
        "page": 1,
        "filters": {
            "conjunction": "and",
            "filterGroups": [
                {
                    "conjunction": "or",
                    "filters": [
                        {
                            "attr": "email",
                            "type": "string",
                            "comparison": "ends with",
                            "value": "@example.com",
                        },
                        {
                            "attr": "data.projectName",
                            "type": "string",
                            "comparison": "is",
                            "value": "Example",
                        },
                    ],
                }
            ],
        },
    }
    req = parse_search_request(body, USER_CATALOG)
    assert req.matches({"email": "a@example.com"}, {})
    assert req.matches({"email": "a@other.org", "data": {"projectName": "Example"}}, {})
    assert not req.matches({"email": "a@other.org", "data": {"projectName": "example"}}, {})


def test_unknown_keys_inside_filters_are_ignored() -> None:
    body = one_filter("email", "string", "contains", "jane")
    body["filters"]["extra"] = 1
    body["filters"]["filterGroups"][0]["id"] = "g1"
    body["filters"]["filterGroups"][0]["filters"][0]["label"] = "Email"
    assert parse_search_request(body, USER_CATALOG).matches(USER, {})


# ---------------------------------------------------------------- role filters

ROLES = {"demo1234": ["admin", "member"], "child001": ["viewer"], "empty000": []}

ROLE_CASES: list[tuple[str, Any, dict[str, list[str]], bool]] = [
    ("is", "demo1234:admin", ROLES, True),
    ("is", "demo1234:owner", ROLES, False),
    ("is", "demo1234 : admin", ROLES, True),  # whitespace around the colon
    ("is", "  demo1234:  admin  ", ROLES, True),
    ("is", "demo1234: Admin", ROLES, False),  # role names are exact
    ("is", "demo1234", ROLES, True),  # any role in that tenant
    ("is", "child001", ROLES, True),
    ("is", "empty000", ROLES, False),
    ("is", "other999", ROLES, False),
    ("is", "demo1234:admin", {}, False),
    ("is", "demo1234:a:b", {"demo1234": ["a:b"]}, True),  # split at the first colon
    ("has any value", None, ROLES, True),
    ("has any value", None, {"empty000": []}, False),
    ("has any value", None, {}, False),
]


@pytest.mark.parametrize(("comparison", "value", "roles", "expected"), ROLE_CASES)
def test_role_filters(
    comparison: str, value: Any, roles: dict[str, list[str]], expected: bool
) -> None:
    req = parse_search_request(one_filter("role", "string", comparison, value), USER_CATALOG)
    assert req.needs_roles is True
    assert req.matches(USER, roles) is expected


def test_role_filter_out_of_scope_matches_nothing() -> None:
    scope = {"demo1234"}.__contains__
    body = one_filter("role", "string", "is", "child001:viewer")
    req = parse_search_request(body, USER_CATALOG, role_scope=scope)
    assert not req.matches(USER, ROLES)
    req = parse_search_request(
        one_filter("role", "string", "is", "child001"), USER_CATALOG, role_scope=scope
    )
    assert not req.matches(USER, ROLES)
    req = parse_search_request(
        one_filter("role", "string", "is", "demo1234:admin"), USER_CATALOG, role_scope=scope
    )
    assert req.matches(USER, ROLES)


def test_role_has_any_value_only_counts_tenants_in_scope() -> None:
    scope = {"demo1234"}.__contains__
    req = parse_search_request(
        one_filter("role", "string", "has any value"), USER_CATALOG, role_scope=scope
    )
    assert req.matches(USER, {"demo1234": ["member"]})
    assert not req.matches(USER, {"child001": ["viewer"]})


def test_role_filter_tolerates_malformed_role_maps() -> None:
    req = parse_search_request(one_filter("role", "string", "is", "demo1234"), USER_CATALOG)
    assert not req.matches(USER, {"demo1234": "admin"})  # type: ignore[dict-item]
    assert not req.matches(USER, None)


def test_roles_combine_with_other_filters() -> None:
    body = body_with(
        "and",
        [
            ("or", [{"attr": "role", "type": "string", "comparison": "is", "value": "x1:a"}]),
            ("and", [T]),
        ],
    )
    req = parse_search_request(body, USER_CATALOG)
    assert req.matches(USER, {"x1": ["a"]})
    assert not req.matches(USER, {"x1": ["b"]})
    assert not req.matches({"email": "bob@x.org"}, {"x1": ["a"]})


# ---------------------------------------------------------------- search text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JANE@", True),
        ("doe", True),
        ("jane.d", True),
        ("5", True),  # decimal userId
        ("  Doe ", True),  # trimmed
        ("plan", False),  # data is not searched
        ("zzz", False),
        ("", True),  # blank means no search
    ],
)
def test_user_search_text(text: str, expected: bool) -> None:
    req = parse_search_request({"search": text}, USER_CATALOG)
    assert req.matches(USER, {}) is expected


def test_search_text_is_anded_with_filters() -> None:
    body = one_filter("locked", "boolean", "is", True) | {"search": "jane"}
    req = parse_search_request(body, USER_CATALOG)
    assert req.matches(USER, {})
    assert not req.matches(USER | {"locked": False}, {})
    assert not req.matches(USER | {"email": "x@y.z", "username": "x", "name": "X"}, {})


def test_tenant_search_text() -> None:
    tenant = {"tenantId": "demo1234", "name": "Acme Corp", "data": {"x": "hidden"}}
    assert parse_search_request({"search": "acme"}, TENANT_CATALOG).matches(tenant, {})
    assert parse_search_request({"search": "MO12"}, TENANT_CATALOG).matches(tenant, {})
    assert not parse_search_request({"search": "hidden"}, TENANT_CATALOG).matches(tenant, {})


def test_non_dict_record_never_matches() -> None:
    req = parse_search_request({}, USER_CATALOG)
    assert not req.matches(["not", "a", "record"], {})  # type: ignore[arg-type]


# ---------------------------------------------------------------- validation

G0F1 = "filters.filterGroups[0].filters[1]"


def two_filters(second: Any) -> dict[str, Any]:
    return {
        "filters": {
            "conjunction": "and",
            "filterGroups": [{"conjunction": "or", "filters": [T, second]}],
        }
    }


STRING_OPS = "[is, contains, does not contain, starts with, ends with, is unknown, has any value]"
TYPES = "[string, boolean, number, date, array]"

VALIDATION_CASES: list[tuple[Any, str]] = [
    # top level
    ([], '"body" must be an object'),
    ({"foo": 1}, '"foo" is not allowed'),
    ({"page": 0}, '"page" must be a positive integer'),
    ({"page": -1}, '"page" must be a positive integer'),
    ({"page": 1.5}, '"page" must be a positive integer'),
    ({"page": True}, '"page" must be a positive integer'),
    ({"page": "two"}, '"page" must be a positive integer'),
    ({"limit": 0}, '"limit" must be between 1 and 100'),
    ({"limit": 101}, '"limit" must be between 1 and 100'),
    ({"limit": False}, '"limit" must be between 1 and 100'),
    ({"limit": "lots"}, '"limit" must be between 1 and 100'),
    ({"search": 5}, '"search" must be a string'),
    # order
    ({"order": 5}, '"order" must be <attr>_ASC or <attr>_DESC'),
    ({"order": "createdAt"}, '"order" must be <attr>_ASC or <attr>_DESC'),
    ({"order": "createdAt_desc"}, '"order" must be <attr>_ASC or <attr>_DESC'),
    ({"order": "_ASC"}, '"order" must be <attr>_ASC or <attr>_DESC'),
    ({"order": "password_ASC"}, '"order" password is not searchable'),
    ({"order": "role_ASC"}, '"order" cannot sort by role'),
    ({"order": "data._ASC"}, '"order" data. is not searchable'),
    # filters envelope
    ({"filters": []}, '"filters" must be an object'),
    ({"filters": {"filterGroups": []}}, '"filters.conjunction" is required'),
    (
        {"filters": {"conjunction": "xor", "filterGroups": []}},
        '"filters.conjunction" must be one of [and, or]',
    ),
    (
        {"filters": {"conjunction": "AND", "filterGroups": []}},
        '"filters.conjunction" must be one of [and, or]',
    ),
    (
        {"filters": {"conjunction": ["and"], "filterGroups": []}},
        '"filters.conjunction" must be one of [and, or]',
    ),
    ({"filters": {"conjunction": "and"}}, '"filters.filterGroups" is required'),
    (
        {"filters": {"conjunction": "and", "filterGroups": {}}},
        '"filters.filterGroups" must be an array',
    ),
    (
        {
            "filters": {
                "conjunction": "and",
                "filterGroups": [{"conjunction": "and", "filters": [T]}] * 11,
            }
        },
        '"filters.filterGroups" must contain at most 10 groups',
    ),
    (
        {"filters": {"conjunction": "and", "filterGroups": ["x"]}},
        '"filters.filterGroups[0]" must be an object',
    ),
    (
        {"filters": {"conjunction": "and", "filterGroups": [{"filters": [T]}]}},
        '"filters.filterGroups[0].conjunction" is required',
    ),
    (
        {
            "filters": {
                "conjunction": "and",
                "filterGroups": [{"conjunction": "nor", "filters": [T]}],
            }
        },
        '"filters.filterGroups[0].conjunction" must be one of [and, or]',
    ),
    (
        {"filters": {"conjunction": "and", "filterGroups": [{"conjunction": "and"}]}},
        '"filters.filterGroups[0].filters" is required',
    ),
    (
        {"filters": {"conjunction": "and", "filterGroups": [{"conjunction": "and", "filters": T}]}},
        '"filters.filterGroups[0].filters" must be an array',
    ),
    (
        {
            "filters": {
                "conjunction": "and",
                "filterGroups": [{"conjunction": "and", "filters": []}],
            }
        },
        '"filters.filterGroups[0].filters" must contain between 1 and 20 filters',
    ),
    (
        {
            "filters": {
                "conjunction": "and",
                "filterGroups": [{"conjunction": "and", "filters": [T] * 21}],
            }
        },
        '"filters.filterGroups[0].filters" must contain between 1 and 20 filters',
    ),
    # one filter
    (two_filters("email"), f'"{G0F1}" must be an object'),
    (two_filters({"type": "string", "comparison": "is"}), f'"{G0F1}.attr" is required'),
    (two_filters({"attr": 5, "type": "string"}), f'"{G0F1}.attr" must be a string'),
    (
        two_filters({"attr": "password", "type": "string", "comparison": "is", "value": "x"}),
        '"attr" password is not searchable',
    ),
    (two_filters({"attr": "data", "type": "string"}), '"attr" data is not searchable'),
    (two_filters({"attr": "data.", "type": "string"}), '"attr" data. is not searchable'),
    (two_filters({"attr": "data..x", "type": "string"}), '"attr" data..x is not searchable'),
    (
        two_filters({"attr": "tenant.name", "type": "string"}),
        '"attr" tenant.name is not searchable',
    ),
    (two_filters({"attr": "email", "comparison": "is"}), f'"{G0F1}.type" is required'),
    (
        two_filters({"attr": "email", "type": "text", "comparison": "is"}),
        f'"{G0F1}.type" must be one of {TYPES}',
    ),
    (
        two_filters({"attr": "email", "type": ["string"], "comparison": "is"}),
        f'"{G0F1}.type" must be one of {TYPES}',
    ),
    (two_filters({"attr": "email", "type": "string"}), f'"{G0F1}.comparison" is required'),
    (
        two_filters({"attr": "email", "type": "string", "comparison": "equals", "value": "x"}),
        f'"{G0F1}.comparison" must be one of {STRING_OPS}',
    ),
    (
        two_filters({"attr": "email", "type": "string", "comparison": {}, "value": "x"}),
        f'"{G0F1}.comparison" must be one of {STRING_OPS}',
    ),
    # type / comparison mismatches
    (
        two_filters({"attr": "locked", "type": "boolean", "comparison": "contains", "value": True}),
        f'"{G0F1}.comparison" must be one of [is, is not]',
    ),
    (
        two_filters({"attr": "userId", "type": "number", "comparison": "before", "value": 1}),
        f'"{G0F1}.comparison" must be one of [is, more than, less than]',
    ),
    (
        two_filters(
            {"attr": "createdAt", "type": "date", "comparison": "is", "value": "2024-01-01"}
        ),
        f'"{G0F1}.comparison" must be one of [before, after, between, less than, more than]',
    ),
    (
        two_filters({"attr": "data.t", "type": "array", "comparison": "is", "value": "x"}),
        f'"{G0F1}.comparison" must be one of [contains, does not contain, any]',
    ),
    (
        two_filters({"attr": "email", "type": "string", "comparison": "is not", "value": "x"}),
        f'"{G0F1}.comparison" must be one of {STRING_OPS}',
    ),
    # values
    (
        two_filters({"attr": "email", "type": "string", "comparison": "is", "value": 5}),
        f'"{G0F1}.value" must be a string',
    ),
    (
        two_filters({"attr": "email", "type": "string", "comparison": "contains"}),
        f'"{G0F1}.value" must be a string',
    ),
    (
        two_filters({"attr": "locked", "type": "boolean", "comparison": "is", "value": "true"}),
        f'"{G0F1}.value" must be a boolean',
    ),
    (
        two_filters({"attr": "locked", "type": "boolean", "comparison": "is not", "value": 1}),
        f'"{G0F1}.value" must be a boolean',
    ),
    (
        two_filters({"attr": "userId", "type": "number", "comparison": "is", "value": True}),
        f'"{G0F1}.value" must be a number',
    ),
    (
        two_filters({"attr": "userId", "type": "number", "comparison": "is", "value": "5"}),
        f'"{G0F1}.value" must be a number',
    ),
    (
        two_filters(
            {"attr": "userId", "type": "number", "comparison": "more than", "value": math.inf}
        ),
        f'"{G0F1}.value" must be a number',
    ),
    (
        two_filters({"attr": "createdAt", "type": "date", "comparison": "before", "value": "soon"}),
        f'"{G0F1}.value" must be an ISO 8601 date or datetime',
    ),
    (
        two_filters({"attr": "createdAt", "type": "date", "comparison": "after", "value": 1}),
        f'"{G0F1}.value" must be an ISO 8601 date or datetime',
    ),
    (
        two_filters(
            {"attr": "createdAt", "type": "date", "comparison": "between", "value": ["2024-01-01"]}
        ),
        f'"{G0F1}.value" must be [start, end] or {{start, end}}',
    ),
    (
        two_filters(
            {"attr": "createdAt", "type": "date", "comparison": "between", "value": "2024-01-01"}
        ),
        f'"{G0F1}.value" must be [start, end] or {{start, end}}',
    ),
    (
        two_filters(
            {
                "attr": "createdAt",
                "type": "date",
                "comparison": "between",
                "value": {"start": "2024-01-01"},
            }
        ),
        f'"{G0F1}.value" must be [start, end] or {{start, end}}',
    ),
    (
        two_filters(
            {
                "attr": "createdAt",
                "type": "date",
                "comparison": "between",
                "value": ["2024-01-01", "later"],
            }
        ),
        f'"{G0F1}.value[1]" must be an ISO 8601 date or datetime',
    ),
    (
        two_filters(
            {
                "attr": "createdAt",
                "type": "date",
                "comparison": "between",
                "value": {"start": None, "end": "2024-01-01"},
            }
        ),
        f'"{G0F1}.value.start" must be an ISO 8601 date or datetime',
    ),
    (
        two_filters({"attr": "createdAt", "type": "date", "comparison": "less than", "value": "7"}),
        f'"{G0F1}.value" must be a non-negative number of days',
    ),
    (
        two_filters({"attr": "createdAt", "type": "date", "comparison": "more than", "value": -1}),
        f'"{G0F1}.value" must be a non-negative number of days',
    ),
    (
        two_filters(
            {"attr": "createdAt", "type": "date", "comparison": "more than", "value": True}
        ),
        f'"{G0F1}.value" must be a non-negative number of days',
    ),
    (
        two_filters({"attr": "data.t", "type": "array", "comparison": "contains", "value": ["x"]}),
        f'"{G0F1}.value" must be a string, number or boolean',
    ),
    (
        two_filters({"attr": "data.t", "type": "array", "comparison": "does not contain"}),
        f'"{G0F1}.value" must be a string, number or boolean',
    ),
    (
        two_filters({"attr": "data.t", "type": "array", "comparison": "any", "value": "x"}),
        f'"{G0F1}.value" must be an array',
    ),
    (
        two_filters({"attr": "data.t", "type": "array", "comparison": "any", "value": ["x", {}]}),
        f'"{G0F1}.value[1]" must be a string, number or boolean',
    ),
    # role
    (
        two_filters({"attr": "role", "type": "array", "comparison": "contains", "value": "x"}),
        f'"{G0F1}.type" must be string for attr role',
    ),
    (
        two_filters({"attr": "role", "type": "string", "comparison": "contains", "value": "x"}),
        f'"{G0F1}.comparison" must be one of [is, has any value]',
    ),
    (
        two_filters({"attr": "role", "type": "string", "comparison": "is", "value": 5}),
        f'"{G0F1}.value" must be "<tenantId>" or "<tenantId>:<role name>"',
    ),
    (
        two_filters({"attr": "role", "type": "string", "comparison": "is", "value": " : admin"}),
        f'"{G0F1}.value" must be "<tenantId>" or "<tenantId>:<role name>"',
    ),
    (
        two_filters({"attr": "role", "type": "string", "comparison": "is", "value": "demo1234: "}),
        f'"{G0F1}.value" must be "<tenantId>" or "<tenantId>:<role name>"',
    ),
]


@pytest.mark.parametrize(("body", "message"), VALIDATION_CASES)
def test_validation_messages_name_the_path(body: Any, message: str) -> None:
    assert bad(body) == message


def test_first_problem_is_reported_in_document_order() -> None:
    body = {
        "filters": {
            "conjunction": "and",
            "filterGroups": [
                {"conjunction": "and", "filters": [T]},
                {"conjunction": "and", "filters": [T, T, {"attr": "email", "type": "x"}]},
            ],
        }
    }
    assert bad(body) == '"filters.filterGroups[1].filters[2].type" must be one of ' + TYPES


def test_role_and_its_order_are_not_searchable_for_tenants() -> None:
    body = one_filter("role", "string", "is", "demo1234")
    assert bad(body, TENANT_CATALOG) == '"attr" role is not searchable'
    assert bad({"order": "role_ASC"}, TENANT_CATALOG) == '"order" role is not searchable'
    assert bad({"order": "email_ASC"}, TENANT_CATALOG) == '"order" email is not searchable'


def test_data_paths_need_allow_data() -> None:
    catalog = Catalog(
        attributes={"name": "string", "createdAt": "date"},
        allow_data=False,
        allow_role=False,
        case_insensitive_is=frozenset(),
        tiebreak="name",
    )
    assert bad(one_filter("data.x", "string", "is", "y"), catalog) == (
        '"attr" data.x is not searchable'
    )
    assert bad({"order": "data.x_ASC"}, catalog) == '"order" data.x is not searchable'


@pytest.mark.parametrize(
    "order",
    ["createdAt_DESC", "username_ASC", "lastActiveAt_ASC", "userId_DESC", "data.some_key_ASC"],
)
def test_valid_orders(order: str) -> None:
    req = parse_search_request({"order": order}, USER_CATALOG)
    attr, _, direction = order.rpartition("_")
    assert (req.order_attr, req.order_desc) == (attr, direction == "DESC")


# ----------------------------------------------------------- ordering and paging


def ordered_ids(records: list[dict[str, Any]], order: str, catalog: Catalog = USER_CATALOG) -> list:
    req = parse_search_request({"order": order, "limit": 100}, catalog)
    page, total = order_and_page(records, req)
    assert total == len(records)
    return [r.get(catalog.tiebreak) for r in page]


PEOPLE = [
    {"userId": 4, "name": "bob", "createdAt": "2024-01-02T00:00:00.000Z", "lastActiveAt": None},
    {"userId": 2, "name": "Alice", "createdAt": "2024-01-03T00:00:00.000Z"},
    {"userId": 3, "name": "alice", "createdAt": "2024-01-01T00:00:00.000Z", "lastActiveAt": None},
    {"userId": 1, "name": "Carol", "createdAt": "2024-01-02T00:00:00.000Z"},
    {"userId": 5, "name": None, "createdAt": "2023-12-31T23:00:00+00:00"},
]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        # strings case-insensitive; ties (Alice/alice) by userId ascending; nulls last
        ("name_ASC", [2, 3, 4, 1, 5]),
        ("name_DESC", [1, 4, 2, 3, 5]),
        # dates as instants (the +00:00 form and the Z form compare correctly)
        ("createdAt_ASC", [5, 3, 1, 4, 2]),
        ("createdAt_DESC", [2, 1, 4, 3, 5]),
        # all null: pure tie-break order in both directions
        ("lastActiveAt_ASC", [1, 2, 3, 4, 5]),
        ("lastActiveAt_DESC", [1, 2, 3, 4, 5]),
        ("userId_DESC", [5, 4, 3, 2, 1]),
    ],
)
def test_ordering(order: str, expected: list[int]) -> None:
    assert ordered_ids(PEOPLE, order) == expected


def test_ordering_by_nested_data_with_mixed_types_never_raises() -> None:
    records = [
        {"userId": 1, "data": {"k": "b"}},
        {"userId": 2, "data": {"k": 10}},
        {"userId": 3, "data": {"k": {"x": 1}}},
        {"userId": 4, "data": {}},
        {"userId": 5, "data": {"k": True}},
        {"userId": 6, "data": {"k": 2.5}},
        {"userId": 7, "data": "not an object"},
        {"userId": 8, "data": {"k": "A"}},
        {"userId": 9, "data": {"k": float("nan")}},
    ]
    asc = ordered_ids(records, "data.k_ASC")
    desc = ordered_ids(records, "data.k_DESC")
    assert asc[-2:] == [4, 7] and desc[-2:] == [4, 7]  # missing last both ways
    assert asc.index(6) < asc.index(2)  # numbers by value
    assert asc.index(8) < asc.index(1)  # strings case-insensitive
    assert sorted(asc) == sorted(desc) == list(range(1, 10))


def test_unparseable_dates_sort_without_raising() -> None:
    records = [
        {"userId": 1, "createdAt": "garbage"},
        {"userId": 2, "createdAt": "2024-01-01"},
        {"userId": 3, "createdAt": 12},
        {"userId": 4},
    ]
    assert ordered_ids(records, "createdAt_ASC")[-1] == 4
    assert ordered_ids(records, "createdAt_DESC")[-1] == 4


def test_tenant_tiebreak() -> None:
    tenants = [
        {"tenantId": "zzzz0000", "name": "Same"},
        {"tenantId": "aaaa0000", "name": "same"},
        {"tenantId": "mmmm0000", "name": None},
        {"tenantId": "bbbb0000", "name": "Other"},
    ]
    assert ordered_ids(tenants, "name_ASC", TENANT_CATALOG) == [
        "bbbb0000",
        "aaaa0000",
        "zzzz0000",
        "mmmm0000",
    ]
    assert ordered_ids(tenants, "name_DESC", TENANT_CATALOG) == [
        "aaaa0000",
        "zzzz0000",
        "bbbb0000",
        "mmmm0000",
    ]


def test_paging_slices_and_past_the_end() -> None:
    records = [{"userId": i, "createdAt": f"2024-01-{i:02d}"} for i in range(1, 8)]
    req = parse_search_request({"order": "userId_ASC", "limit": 3, "page": 2}, USER_CATALOG)
    page, total = order_and_page(records, req)
    assert [r["userId"] for r in page] == [4, 5, 6]
    assert total == 7
    req = parse_search_request({"order": "userId_ASC", "limit": 3, "page": 3}, USER_CATALOG)
    assert [r["userId"] for r in order_and_page(records, req)[0]] == [7]
    req = parse_search_request({"limit": 3, "page": 9}, USER_CATALOG)
    page, total = order_and_page(records, req)
    assert (page, total) == ([], 7)
    env = list_envelope(page, total, req.page, req.limit)
    assert env == {
        "totalCount": 7,
        "totalPages": 3,
        "results": [],
        "meta": {"page": 9, "pageSize": 3, "count": 0, "totalCount": 7, "totalPages": 3},
    }


def test_default_order_is_newest_first() -> None:
    page, _ = order_and_page(PEOPLE, parse_search_request({}, USER_CATALOG))
    assert [r["userId"] for r in page] == [2, 1, 4, 3, 5]


def test_order_and_page_does_not_mutate_input() -> None:
    records = list(PEOPLE)
    order_and_page(records, parse_search_request({"order": "name_ASC"}, USER_CATALOG))
    assert records == PEOPLE


@pytest.mark.parametrize(
    ("total", "limit", "pages"), [(0, 50, 0), (1, 50, 1), (50, 50, 1), (51, 50, 2), (57, 50, 2)]
)
def test_list_envelope_pages(total: int, limit: int, pages: int) -> None:
    results = list(range(min(total, limit)))
    env = list_envelope(results, total, 1, limit)
    assert env["totalPages"] == pages
    assert env["totalCount"] == total
    assert env["results"] is results
    assert env["meta"] == {
        "page": 1,
        "pageSize": limit,
        "count": len(results),
        "totalCount": total,
        "totalPages": pages,
    }


def test_list_envelope_without_meta() -> None:
    assert list_envelope(["k"], 1, 1, 100, meta=False) == {
        "totalCount": 1,
        "totalPages": 1,
        "results": ["k"],
    }


def test_search_request_defaults_are_usable_directly() -> None:
    req = SearchRequest()
    assert req.matches({}, {}) and req.offset == 0


# ------------------------------------------------------------ property tests

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

# Bodies built from the real vocabulary reach deep into the validator.
attrs = st.sampled_from(
    [*USER_CATALOG.attributes, "role", "data.x", "data.x.y", "data", "nope", "data."]
)
types = st.sampled_from([*search_mod.TYPES, "text"])
comparisons = st.sampled_from(
    sorted({c for cs in search_mod.COMPARISONS.values() for c in cs} | {"equals"})
)
dateish = st.sampled_from(["2024-01-01", "2024-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"])
filter_values = json_values | dateish | st.lists(dateish, min_size=2, max_size=2)
filters_st = st.fixed_dictionaries(
    {},
    optional={
        "attr": attrs | json_values,
        "type": types,
        "comparison": comparisons,
        "value": filter_values,
    },
)
conj = st.sampled_from(["and", "or"]) | json_values
groups_st = st.fixed_dictionaries(
    {}, optional={"conjunction": conj, "filters": st.lists(filters_st | json_values, max_size=3)}
)
structured_bodies = st.fixed_dictionaries(
    {},
    optional={
        "filters": st.fixed_dictionaries(
            {},
            optional={"conjunction": conj, "filterGroups": st.lists(groups_st, max_size=3)},
        )
        | json_values,
        "order": st.sampled_from(["createdAt_DESC", "name_ASC", "data.x_ASC", "role_ASC", "x"])
        | json_values,
        "page": json_values,
        "limit": json_values,
        "search": json_values,
    },
)


@PROPS
@given(body=structured_bodies | json_values)
def test_parser_only_ever_raises_bad_request(body: Any) -> None:
    try:
        req = parse_search_request(body, USER_CATALOG)
    except BadRequest as exc:
        assert exc.status_code == 400
        return
    # Whatever parsed must also evaluate without raising on odd records.
    for record in ({}, USER, {"data": body if isinstance(body, dict) else {}}):
        assert isinstance(req.matches(record, {"t": ["r"]}), bool)


@PROPS
@given(attribute=st.text(max_size=20), needle=st.text(max_size=5))
def test_does_not_contain_is_the_negation_of_contains(attribute: str, needle: str) -> None:
    record = {"name": attribute, "data": {"s": attribute}}
    for attr in ("name", "data.s"):
        contains = matches(record, attr, "string", "contains", needle)
        assert matches(record, attr, "string", "does not contain", needle) is (not contains)


record_values = json_values | dateish | st.datetimes()
records_st = st.lists(
    st.dictionaries(
        st.sampled_from(["userId", "name", "createdAt", "email", "data"]),
        record_values,
        max_size=5,
    ),
    max_size=15,
)


@PROPS
@given(
    records=records_st,
    order=st.sampled_from(
        ["createdAt_ASC", "createdAt_DESC", "name_ASC", "data.k_DESC", "userId_ASC"]
    ),
    page=st.integers(min_value=1, max_value=6),
    limit=st.integers(min_value=1, max_value=7),
)
def test_order_and_page_is_total_and_consistent(
    records: list[dict[str, Any]], order: str, page: int, limit: int
) -> None:
    req = parse_search_request({"order": order, "page": page, "limit": limit}, USER_CATALOG)
    result, total = order_and_page(records, req)
    assert total == len(records)
    start = (page - 1) * limit
    assert len(result) == max(0, min(limit, total - start))
    everything = []
    for p in range(1, math.ceil(total / limit) + 1):
        req.page = p
        everything.extend(order_and_page(records, req)[0])
    assert sorted(map(id, everything)) == sorted(map(id, records))
    # Nulls last in both directions: once a missing value shows up, only missing follow.
    getter = search_mod._getter(req.order_attr)
    missing = [getter(r) is None for r in everything]
    assert missing == sorted(missing)
    env = list_envelope(result, total, page, limit)
    assert env["totalPages"] == math.ceil(total / limit)
    assert env["meta"]["count"] == len(result)


def test_role_filters_ask_the_scope_once_per_tenant_per_search() -> None:
    """The scope check may read the tenant: one search must not read it once per user."""
    asked: list[str] = []

    def scope(tenant_id: str) -> bool:
        asked.append(tenant_id)
        return tenant_id != "hidden00"

    body = {
        "filters": {
            "conjunction": "or",
            "filterGroups": [
                {
                    "conjunction": "or",
                    "filters": [
                        {"attr": "role", "type": "string", "comparison": "has any value"},
                        {"attr": "role", "type": "string", "comparison": "is", "value": "t1"},
                    ],
                }
            ],
        }
    }
    request = search_mod.parse_search_request(body, search_mod.USER_CATALOG, role_scope=scope)
    roles = {"hidden00": ["admin"], "tenant01": ["admin"]}
    assert all(request.matches({"userId": n}, roles) for n in range(500))
    assert sorted(asked) == ["hidden00", "t1", "tenant01"]
