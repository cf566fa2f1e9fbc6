"""Client-to-server authentication (api-client.md): one module per strategy.

- `context`: who is asking (tenant, mode from the origin, settings, IP, user agent).
- `identity`: the user fields sign-up paths accept, validated once for all of them.
- `claims`: access, ID and refresh token payloads and the tokens object (§1.1, §1.3).
- `completion`: after a factor is verified, the one place that decides between
  tokens (§1.4), "MFA required" (§1.5) and PKCE (§1.6), and creates the session.
- `mfa`: who needs a second factor, which ones, and the first-factor token (§11).
- `password`, `link`, `code`, `totp`, `reset`, `verify`, `pkce`: the strategies.
- `passthrough`, `passthroughconfig`: passthrough migration (concepts §7.2, §7.3): a
  password log-in without a local hash checked by the tenant's old login service or
  Cognito, and its per-tenant settings.
- `messages`: sending links and codes (rate limits, outbox items, §1.7 answers).
- `inputs`: the request bodies of the auth endpoints, shapes only.
"""
