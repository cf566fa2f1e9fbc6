"""Rate limiting: every limiter of the core, one module per limiter kind, behind one
vocabulary (a named `RateLimit` of the tenant's `rateLimits`, counted per hashed key in
fixed windows): `fixedwindow` (the counter: count, hit, check, record, refund), `tally`
(batched counting of one shared window for hot read paths), `perip` (`requestsPerIp`,
client requests per IP), `percredential` (the server API's per-credential buckets and
their `X-RateLimit-*` headers), `authfailures` (`authFailuresPerIp`, failed credentials
per IP), `attempts` (`attemptsPerAccount`, attempts of one factor per account),
`spraying` (`firstFactorFailuresPerIp`, failed first factors per IP) and `parentlimits`
(a child tenant's limits clamped to its parent's). The counters are stored by
`store/ratelimits.py`; the per-session refresh limit lives on the session item
(`sessions.py`). It may import `portcullis.platform.errors`, `portcullis.tenancy.settings`,
`portcullis.store`, and `portcullis.tenancy.state` only inside functions (tenantstate
imports `parentlimits`); the callers it counts (`callers.Caller`,
`auth.context.Request`) only for type checking.
"""
