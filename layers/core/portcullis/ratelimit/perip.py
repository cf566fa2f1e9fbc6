"""`requestsPerIp` (api-client §4, "everything else per IP"): client requests per source
IP, per tenant and mode, for the endpoints no other limit of that table counts.

Counted: `GET .../mode`, every access-token endpoint (`/v0/self`, sessions, log out,
password update), link log-in, password reset and the PKCE exchange. Not counted here,
because their own row of the table limits them: sign-up (`signupPerIp`), sends and
verify email/phone (`sendPerIp`, `sendPerTarget`), password and code log-in
(`attemptsPerAccount`) and refresh (`refreshPerSession`).

The count is batched per Lambda instance (`portcullis.ratelimit.tally`): exact for small limits,
and within a bounded overshoot for large ones, at an amortised 1/k extra DynamoDB call
(k = limit // 20) instead of one call per request.
"""

from __future__ import annotations

from portcullis.platform.errors import CLIENT_RATE_LIMITED
from portcullis.ratelimit import tally
from portcullis.tenancy.settings import RateLimits

NAME = "requestsPerIp"


def count_request(mode: str, tenant_id: str, ip: str, limits: RateLimits) -> None:
    """Count one client request of `ip` in this tenant and mode; 429 past the limit."""
    tally.count(NAME, limits.requestsPerIp, mode, tenant_id, ip, message=CLIENT_RATE_LIMITED)
