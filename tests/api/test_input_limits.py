"""Client input that used to be a 500 is a 400 naming the field (issue 8, item 5).

Non-ASCII digits pass `str.isdigit()` but not `int()`; `int()` refuses more than 4,300
digits; "\\ud800" is valid JSON but not text. Every case goes over HTTP to the local
runtime with a valid admin key, and the bad-body cases again without one (the
credential is judged before the input).
"""

from __future__ import annotations

from typing import Any

import pytest
from authkit import bearer, error, unique_email

HUGE = "9" * 5000
SURROGATE_EMAIL = '{"email": "a\\ud800b@example.com"}'
INT_MESSAGE = "must be an integer of at most 100 digits"
TEXT_MESSAGE = "must be valid Unicode text (no unpaired surrogates)"


@pytest.fixture(scope="module")
def user_id(base_url: str, workspace: Any) -> int:
    import httpx

    admin = workspace.key("test", "admin")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        created = http.post(
            "/v0/users", json={"email": unique_email("limits")}, headers=bearer(admin)
        )
        assert created.status_code == 200, created.text
        return int(created.json()["userId"])


def _raw(api: Any, method: str, path: str, body: str, key: str | None) -> Any:
    headers = {"content-type": "application/json", **(bearer(key) if key else {})}
    return api.client.request(method, path, content=body.encode("utf-8"), headers=headers)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=%C2%B2", '"page" must be a positive integer'),
        ("limit=%C2%B2", '"limit" must be between 1 and 100'),
        ("page=%D9%A3", '"page" must be a positive integer'),  # ARABIC-INDIC DIGIT THREE
        (f"page={HUGE}", '"page" must be a positive integer'),
        (f"limit={HUGE}", '"limit" must be between 1 and 100'),
        ("page=" + "9" * 4000, '"page" must be a positive integer'),
    ],
)
@pytest.mark.parametrize("route", ["/v0/users", "/v0/users/{user_id}/sessions"])
def test_query_integers_are_ascii_and_bounded(
    api: Any, workspace: Any, user_id: int, route: str, query: str, message: str
) -> None:
    path = route.format(user_id=user_id) + "?" + query
    error(api("GET", path, key=workspace.key("test", "admin")), 400, message)


@pytest.mark.parametrize(
    ("method", "route", "body", "message"),
    [
        ("POST", "/v0/users/find", f'{{"page": {HUGE}}}', f'"page" {INT_MESSAGE}'),
        (
            "POST",
            "/v0/users",
            f'{{"email": "n@example.com", "data": {{"n": {HUGE}}}}}',
            f'"data.n" {INT_MESSAGE}',
        ),
        (
            "PUT",
            "/v0/tenants/{tenant}/settings",
            f'{{"rateLimits": {{"requestsPerIp": {{"limit": {HUGE}, "windowSeconds": 60}}}}}}',
            f'"rateLimits.requestsPerIp.limit" {INT_MESSAGE}',
        ),
        ("POST", "/v0/tenants/{tenant}/roles", f'{{"name": {HUGE}}}', f'"name" {INT_MESSAGE}'),
        ("POST", "/v0/users", SURROGATE_EMAIL, f'"email" {TEXT_MESSAGE}'),
        ("POST", "/v0/users", '{"email": "\\ud800"}', f'"email" {TEXT_MESSAGE}'),
        ("POST", "/v0/tenants/{tenant}/roles", '{"name": "a\\udfffb"}', f'"name" {TEXT_MESSAGE}'),
        (
            "PUT",
            "/v0/users/{user_id}/roles",
            '{"roles": ["admin", "x\\ud800"]}',
            f'"roles[1]" {TEXT_MESSAGE}',
        ),
        (
            "POST",
            "/v0/users/find",
            '{"search": "\\ud800"}',
            f'"search" {TEXT_MESSAGE}',
        ),
        ("POST", "/v0/users", '{"email": "f@example.com", "data": {"f": 1e999}}', None),
        ("POST", "/v0/users", '{"email": "f@example.com", "data": {"f": NaN}}', None),
    ],
)
def test_json_values_that_cannot_be_stored_are_a_400(
    api: Any,
    workspace: Any,
    user_id: int,
    method: str,
    route: str,
    body: str,
    message: str | None,
) -> None:
    path = route.format(tenant=workspace.tenant_id, user_id=user_id)
    error(_raw(api, method, path, body, workspace.key("test", "admin")), 400, message)
    # Without a credential the answer is about the credential, never about the input.
    assert _raw(api, method, path, body, None).status_code == 401


def test_valid_unicode_and_long_but_bounded_integers_still_work(api: Any, workspace: Any) -> None:
    """A surrogate *pair* (an emoji) is text, and 100-digit integers are accepted."""
    email = unique_email("ok")
    body = f'{{"email": "{email}", "name": "Ann \\ud83d\\ude00", "data": {{"n": {"9" * 100}}}}}'
    created = _raw(api, "POST", "/v0/users", body, workspace.key("test", "admin"))
    assert created.status_code == 200, created.text
    assert created.json()["name"] == "Ann \N{GRINNING FACE}"
    assert created.json()["data"]["n"] == int("9" * 100)
