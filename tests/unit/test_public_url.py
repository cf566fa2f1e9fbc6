"""`config.public_url`: the URLs given to identity and service providers (SSO callback,
SAML IdP endpoints) are built on the issuer without a doubled slash."""

from __future__ import annotations

import pytest

from portcullis.platform import config


@pytest.mark.parametrize("base", ["https://auth.example.com", "https://auth.example.com/"])
def test_a_route_hangs_off_the_issuer_with_one_slash(
    base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    assert config.public_url("/v0/auth/google/login") == (
        "https://auth.example.com/v0/auth/google/login"
    )


def test_the_sso_callback_and_the_idp_urls_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from portcullis.saml import idp
    from portcullis.sso import flow

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://auth.example.com/")
    assert flow.redirect_uri("google") == "https://auth.example.com/v0/auth/google/login"
    assert idp.sso_url("abcdefgh") == (
        "https://auth.example.com/v0/tenants/abcdefgh/auth/saml/idp/sso"
    )
    assert idp.alias_url("logout", "abcdefgh") == (
        "https://auth.example.com/v0/auth/saml/idp/logout?tenant_id=abcdefgh"
    )
