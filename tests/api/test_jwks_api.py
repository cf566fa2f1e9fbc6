"""Public JWT keys: PEM list and JWKS, usable by PyJWT; no private material anywhere."""

import base64
import json
import os
import subprocess
import sys
import time

import jwt
import pytest
from jwt import PyJWKClient


def test_public_keys_default_to_live(api, workspace) -> None:
    live = api("GET", f"/v0/tenants/{workspace.tenant_id}/keys/jwt")
    test = api("GET", f"/v0/tenants/{workspace.tenant_id}/keys/jwt?test=true")
    assert live.status_code == test.status_code == 200
    live_key, test_key = live.json()["results"][0], test.json()["results"][0]
    assert live_key["mode"] == "live" and test_key["mode"] == "test"
    assert live_key["kid"] != test_key["kid"]
    assert live_key["publicKey"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert base64.b64decode(live_key["publicKeyBase64"]).decode() == live_key["publicKey"]
    assert live_key["algorithm"] == "RS256" and live_key["isActive"] is True
    assert live.headers["cache-control"] == "public, max-age=300"
    # a live-domain-looking origin never changes the mode of these endpoints
    origin = api(
        "GET", f"/v0/tenants/{workspace.tenant_id}/jwks", headers={"Origin": "http://localhost"}
    )
    assert origin.json()["keys"][0]["kid"] == live_key["kid"]


def test_jwks_modes_and_unknown_tenants(api, workspace) -> None:
    tid = workspace.tenant_id
    by_path = api("GET", f"/v0/tenants/{tid}/jwks/test").json()
    by_query = api("GET", f"/v0/tenants/{tid}/jwks?test=true").json()
    assert by_path == by_query
    assert by_path["keys"][0]["kty"] == "RSA"
    assert api("GET", f"/v0/tenants/{tid}/jwks/staging").status_code == 404
    assert api("GET", "/v0/tenants/zzzz0000/jwks").status_code == 404
    assert api("GET", "/v0/tenants/zzzz0000/keys/jwt").status_code == 404


def test_responses_never_carry_private_keys(api, workspace) -> None:
    tid = workspace.tenant_id
    for path in (f"/v0/tenants/{tid}/keys/jwt", f"/v0/tenants/{tid}/jwks", f"/v0/tenants/{tid}"):
        body = api("GET", path, key=workspace.keys["test"]["admin"]).text
        assert "PRIVATE" not in body
        assert '"d"' not in body and "encrypted" not in body.lower()


def test_token_signed_by_the_core_verifies_with_the_jwks(api, workspace, base_url) -> None:
    """A token signed by the core (run as a separate process against the runtime's AWS)
    verifies with `PyJWKClient` reading the JWKS over HTTP."""
    environment = {**os.environ, **api("GET", "/_local/environment").json()}
    now = int(time.time())
    claims = {
        "mode": "live",
        "tenantId": workspace.tenant_id,
        "userId": 1,
        "iat": now,
        "exp": now + 60,
    }
    script = (
        "import json,sys; from portcullis.tokens import signing;"
        " print(signing.sign(*json.load(sys.stdin)))"
    )
    signed = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([workspace.tenant_id, "live", claims]),
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=60,
    )
    token = signed.stdout.strip()
    client = PyJWKClient(f"{base_url}/v0/tenants/{workspace.tenant_id}/jwks")
    signing_key = client.get_signing_key_from_jwt(token)
    decoded = jwt.decode(token, signing_key.key, algorithms=["RS256"])
    assert decoded["tenantId"] == workspace.tenant_id
    test_jwks = PyJWKClient(f"{base_url}/v0/tenants/{workspace.tenant_id}/jwks/test")
    with pytest.raises(jwt.PyJWKClientError):
        test_jwks.get_signing_key_from_jwt(token)
