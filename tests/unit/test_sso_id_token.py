"""The ID-token check of a sign-on (portcullis/sso/flow.py), claim by claim: tokens
signed here with a real RSA key, the key set served over HTTP on loopback as a
provider's JWKS (test mode with loopback allowed, as the local runtime runs). The API
tests (tests/api/test_sso.py) cover the same refusals end to end where the provider
can be made to produce them; a wrong audience it cannot, so it is checked here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from portcullis.sso import flow, providers
from portcullis.sso.config import Provider

ISSUER = "https://idp.example"
CLIENT = "portcullis-client"
NONCE = "n-0S6_WzA2Mj"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    body = json.dumps({"keys": [KEY.as_dict(private=False)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCALHOST", "true")


def _token(key: RSAKey = KEY, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "user-1", "aud": CLIENT, "exp": now + 300, "iat": now}
    claims["nonce"] = NONCE
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return {"id_token": jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)}


def _check(token: dict[str, Any], jwks_url: str, nonce: str | None = NONCE) -> dict[str, Any]:
    provider = Provider("test", "tenant1", "custom", "x", {"clientId": CLIENT})
    endpoints = providers.Endpoints(ISSUER, "https://a", "https://t", None, jwks_url, None)
    return flow._verified_id_token(provider, endpoints, token, nonce)


def test_a_valid_token_gives_its_claims(jwks_url: str) -> None:
    assert _check(_token(), jwks_url)["sub"] == "user-1"


@pytest.mark.parametrize(
    "token",
    [
        _token(aud="someone-else"),
        _token(iss="https://evil.example"),
        _token(nonce="replayed"),
        _token(nonce=None),
        _token(exp=int(time.time()) - 3600),
        _token(key=OTHER),
    ],
    ids=["audience", "issuer", "nonce", "no-nonce", "expired", "signature"],
)
def test_a_wrong_claim_or_signature_is_refused(token: dict[str, Any], jwks_url: str) -> None:
    with pytest.raises(flow.SignOnFailed) as refused:
        _check(token, jwks_url)
    assert refused.value.code == "provider_error"


def test_unsigned_and_symmetric_tokens_are_refused(jwks_url: str) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "u", "aud": CLIENT, "exp": now + 60, "iat": now, "nonce": NONCE}
    from joserfc.jwk import OctKey

    forged = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(b"k" * 32))
    with pytest.raises(flow.SignOnFailed):
        _check({"id_token": forged}, jwks_url)
