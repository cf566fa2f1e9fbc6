"""SAML 2.0 identity provider (issue 14, docs/saml.md): the workspace's signing key and
certificate, IdP metadata, the registry of service providers, incoming AuthnRequests and
LogoutRequests (hardened parsing, signature and replay checks), pending requests, the
single-use SAML token, and the signed Response / LogoutResponse posted back to the SP.

It may import `platform/`, `store/`, `tenancy/`, `tokens/` (key envelope) and
`sessions/` (the access-token rule); it sits above `auth/` and below `tenants/`.
"""
