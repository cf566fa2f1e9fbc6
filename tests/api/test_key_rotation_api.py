"""Signing-key rotation over HTTP (docs/keyrotation.md): a token signed before a rotation
still verifies with PyJWT's `PyJWKClient` and on our API after it, new tokens carry the
new kid once it activates, and a removed key's tokens fail both. Plus the admin rules of
the two routes (mode from the credential, scope, readonly, bad input)."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from accesskit import PASSWORD, api_key, child_tenant, new_user, ok, sign_in
from authkit import bearer, error, jwt_header, new_tenant
from conformance import conforms
from jwt import PyJWKClient


def _kid(token: str) -> str:
    return str(jwt_header(token)["kid"])


def _rotate(http: httpx.Client, tenant_id: str, key: str, **body: Any) -> httpx.Response:
    answer = http.post(f"/v0/tenants/{tenant_id}/keys/jwt/rotate", json=body, headers=bearer(key))
    conforms(answer)  # the answer is what docs/openapi.json declares
    return answer


def _listed(http: httpx.Client, tenant_id: str, mode: str = "test") -> list[dict[str, Any]]:
    query = "?test=true" if mode == "test" else ""
    return list(ok(http.get(f"/v0/tenants/{tenant_id}/keys/jwt{query}"))["results"])


def _jwks_verifies(base_url: str, tenant_id: str, token: str) -> dict[str, Any]:
    """Verify as a customer's server would: a fresh `PyJWKClient` on the tenant's JWKS."""
    keys = PyJWKClient(f"{base_url}/v0/tenants/{tenant_id}/jwks/test", cache_jwk_set=False)
    return dict(jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256"]))


def test_tokens_survive_rotation_until_their_key_is_removed(base_url: str, workspace) -> None:
    admin = workspace.key("test", "admin")
    tenant_id = new_tenant(base_url, admin, name="Rotation")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        user = new_user(http, admin, tenant_id=tenant_id, password=PASSWORD)
        before = sign_in(http, user)
        first_kid = _kid(before)
        [original] = _listed(http, tenant_id)
        assert original["kid"] == first_kid and original["isActive"] is True

        # warm-up: published at once, listed after the signing key, not signing yet
        warming = ok(_rotate(http, tenant_id, admin))
        assert warming["isActive"] is False and warming["activatesAt"] > original["createdAt"]
        listed = _listed(http, tenant_id)
        assert [(k["kid"], k["isActive"]) for k in listed] == [
            (first_kid, True),
            (warming["kid"], False),
        ]
        jwks = ok(http.get(f"/v0/tenants/{tenant_id}/jwks/test"))
        assert [k["kid"] for k in jwks["keys"]] == [first_kid, warming["kid"]]
        assert _kid(sign_in(http, user)) == first_kid  # the old key keeps signing
        error(_rotate(http, tenant_id, admin), 409)  # one warm-up at a time

        # emergency: the new key signs at once (the warming one is dropped)
        urgent = ok(_rotate(http, tenant_id, admin, activateNow=True))
        assert urgent["isActive"] is True
        listed = _listed(http, tenant_id)
        assert [(k["kid"], k["isActive"]) for k in listed] == [
            (urgent["kid"], True),
            (first_kid, False),
        ]
        after = sign_in(http, user)
        assert _kid(after) == urgent["kid"]

        # the token signed before the rotation: still verifies, still works
        assert _jwks_verifies(base_url, tenant_id, before)["tenantId"] == tenant_id
        assert http.get("/v0/self", headers=bearer(before)).status_code == 200
        assert _jwks_verifies(base_url, tenant_id, after)["userUuid"] == user.uuid

        # compromise: the old key is removed; its tokens fail everywhere at once
        removed = ok(
            http.delete(f"/v0/tenants/{tenant_id}/keys/jwt/{first_kid}", headers=bearer(admin))
        )
        assert removed["result"]["kid"] == first_kid
        assert [k["kid"] for k in _listed(http, tenant_id)] == [urgent["kid"]]
        with pytest.raises(jwt.PyJWKClientError):
            _jwks_verifies(base_url, tenant_id, before)
        error(http.get("/v0/self", headers=bearer(before)), 401)
        assert http.get("/v0/self", headers=bearer(after)).status_code == 200


def test_rotation_admin_rules(base_url: str, workspace) -> None:
    admin, readonly = workspace.key("test", "admin"), workspace.key("test", "readonly")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        parent = child_tenant(http, admin, name="RotParent")
        child = child_tenant(http, admin, parent=parent, name="RotChild")
        child_admin = api_key(http, admin, child)
        rotate_path = f"/v0/tenants/{parent}/keys/jwt/rotate"
        [signing] = _listed(http, parent)
        remove_path = f"/v0/tenants/{parent}/keys/jwt/{signing['kid']}"

        error(http.post(rotate_path), 401, "Missing authentication")
        # the credential is judged before the body
        error(http.post(rotate_path, json={"activateNow": "yes"}), 401, "Missing authentication")
        error(_rotate(http, parent, readonly, activateNow="yes"), 403)
        error(http.post(rotate_path, headers=bearer(readonly)), 403)
        error(http.delete(remove_path, headers=bearer(readonly)), 403)
        error(http.post(rotate_path, headers=bearer(child_admin)), 403)  # the parent's key
        error(http.delete(remove_path, headers=bearer(child_admin)), 403)
        bad = error(_rotate(http, parent, admin, activateNow="yes"), 400)
        assert "activateNow" in bad["message"]
        assert "extra" in error(_rotate(http, parent, admin, extra=1), 400)["message"]
        listed_body = http.post(rotate_path, json=[True], headers=bearer(admin))
        error(listed_body, 400)
        error(http.delete(remove_path, headers=bearer(admin)), 400)  # the signing key
        error(
            http.delete(f"/v0/tenants/{parent}/keys/jwt/not-a-kid", headers=bearer(admin)),
            404,
            "Key not found",
        )
        unknown = f"/v0/tenants/{parent}/keys/jwt/00000000-0000-4000-8000-000000000000"
        error(http.delete(unknown, headers=bearer(admin)), 404, "Key not found")
        error(_rotate(http, "zzzz9999", admin), 403)  # out of scope (exists or not)
        assert _listed(http, parent) == [signing]  # nothing above changed anything

        # the child's own admin key rotates the child, in the key's mode only
        own = ok(http.post(f"/v0/tenants/{child}/keys/jwt/rotate", headers=bearer(child_admin)))
        assert [k["kid"] for k in _listed(http, child)][1] == own["kid"]
        assert own["mode"] == "test"
        # a warming key may be withdrawn (the rotation is called off)
        withdrawn = http.delete(f"/v0/tenants/{child}/keys/jwt/{own['kid']}", headers=bearer(admin))
        assert ok(withdrawn)["result"]["kid"] == own["kid"]
        conforms(withdrawn)
        assert len(_listed(http, child)) == 1


def test_live_key_rotates_live_keys_only(base_url: str, workspace) -> None:
    live_admin = workspace.key("live", "admin")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        tenant_id = child_tenant(http, live_admin, name="LiveRotation")
        before = _listed(http, tenant_id, "live")
        rotated = ok(_rotate(http, tenant_id, live_admin, activateNow=True))
        assert rotated["mode"] == "live"
        after = _listed(http, tenant_id, "live")
        assert [k["kid"] for k in after] == [rotated["kid"], before[0]["kid"]]
        # the live key's tenant has no test-mode twin here: the test keys are untouched
        assert http.get(f"/v0/tenants/{tenant_id}/keys/jwt?test=true").status_code == 404
