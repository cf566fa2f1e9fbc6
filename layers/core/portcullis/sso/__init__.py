"""Single sign-on with OAuth 2 / OpenID Connect providers (api-client §6.4, §6.5, §7.10;
concepts §9.2; docs/sso.md).

- `providers`: the named providers' presets (endpoints, scopes, claim names) and the
  endpoints one tenant's configuration resolves to (OIDC discovery, JWKS), cached.
- `config`: the admin API of a tenant's providers per mode: what may be saved, the
  sealed secrets, masked reads, the test-only endpoint override.
- `flow`: `GET`/`POST /v0/auth/{provider}/login`: the start (state record, PKCE, nonce,
  the authorization URL) and the callback (code exchange, a verified identity, the
  matching or new user, the `sso` link credential and the redirect to the page).
- `identities`: a user's linked identities (read for the server user object, unlink).

May import: up to `auth/` (client-flow context, sign-up identity rules, link
credentials). Authlib does the OAuth 2 / OIDC client work (authorization URLs, PKCE,
token exchange, ID-token validation); nothing here hand-writes JOSE.
"""
