"""Credentials: the secrets a user proves and the one-time credentials that stand in for
them — password hashing and policy (`passwords`; imported hash formats in `hashformats`,
Firebase's per-tenant hash parameters in `hashparams`), one-time links (`links`),
verification codes (`codes`), PKCE authorization codes (`pkce`) and TOTP secrets with
their backup codes (`totp`). It owns how each is made, stored as
a digest or hash, checked in constant time and consumed; the sign-in flows that use them
live in `auth/`. It may import the platform modules (`errors`, `digests`, `durations`,
`timefmt`), tenant settings (`settings`), KMS sealing (`tokens.envelope`), its own
modules and `store/`; never `auth/`, `sessions`, `users` or the functions.
"""
