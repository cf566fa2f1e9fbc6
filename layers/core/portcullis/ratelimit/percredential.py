"""Per-credential request buckets of the server API (api-server §6), and the
`X-RateLimit-*` headers that describe them.

- `requestsPerCredential` (default 200 per 2 s): every request authenticated by an
  API key or an admin's access token;
- `searchesPerCredential` (default 40 per 2 s): the search endpoints (`.../find`),
  counted in addition to the first.

The contract describes token buckets (100/s sustained with a burst of 200; 20/s with a
burst of 40). A fixed 2-second window of 200 allows the same burst and the same
average, but not the same shape: a caller may spend its 200 at the very end of one
window and 200 more at the start of the next (400 within a moment, then nothing until
the following window), and a caller that was idle gets no more than 200 in any one
window. Counters live in DynamoDB (one UpdateItem per bucket per request), so the
limit holds across every Lambda instance.

The credential is the API key's digest or, for an access token, its session, hashed
before it becomes part of a key. The limits are those of the credential's home tenant
and mode, read through the 5-second tenant cache of `portcullis.tenancy.state`.
"""

from __future__ import annotations

from portcullis.platform.errors import TooManyRequests
from portcullis.ratelimit import fixedwindow
from portcullis.ratelimit.subjects import CredentialHolder
from portcullis.tenancy.settings import RateLimits

REQUESTS = "requestsPerCredential"
SEARCHES = "searchesPerCredential"


def _limits(caller: CredentialHolder) -> RateLimits:
    from portcullis.tenancy.state import tenant_state  # imported on the first request

    state = tenant_state(caller.mode, caller.tenant_id)
    return state.settings.rateLimits if state else RateLimits()


def headers(counted: fixedwindow.Count) -> dict[str, str]:
    """api-server §6 (Portcullis extension): limit, what is left, and when it refills."""
    return {
        "X-RateLimit-Limit": str(counted.limit.limit),
        "X-RateLimit-Remaining": str(counted.remaining),
        "X-RateLimit-Reset": str(counted.end),
    }


def take(caller: CredentialHolder, *, search: bool = False) -> dict[str, str]:
    """Count one request of `caller` (and one search); returns the headers of the bucket
    closest to its limit, or raises 429 with them and Retry-After."""
    limits = _limits(caller)
    shown = fixedwindow.count(REQUESTS, limits.requestsPerCredential, caller.credential)
    if search and not shown.exceeded:
        searched = fixedwindow.count(SEARCHES, limits.searchesPerCredential, caller.credential)
        if searched.exceeded or searched.remaining <= shown.remaining:
            shown = searched
    if shown.exceeded:
        raise TooManyRequests(retry_after=shown.retry_after, headers=headers(shown))
    return headers(shown)
