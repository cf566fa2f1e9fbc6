"""Password spraying (issue 8 item 6): failed first-factor attempts per source IP.

`attemptsPerAccount` stops guessing at one account; spraying tries a few common
passwords (or codes) at very many accounts from one address, which no per-account
counter sees. `firstFactorFailuresPerIp` counts, per mode + tenant + IP, every failed
first-factor attempt: a wrong password or unknown account, a wrong code (the 400s of
password and code log-in). Once an address has used up the window:

- a failure is counted (one `UpdateItem`, only on failure) and answers 429 instead of
  its 400;
- a success is refused too, by a condition inside the sign-in's own transaction (the
  counter must still be under the limit), so past the limit a right and a wrong
  password get the same 429 and the address learns nothing more. A success below the
  limit costs no extra DynamoDB call.

Successes are not counted, so many people signing in behind one NAT are not limited
by it, only their failures add up.
"""

from __future__ import annotations

import time

from portcullis.platform.errors import CLIENT_RATE_LIMITED, PortcullisError, TooManyRequests
from portcullis.ratelimit import fixedwindow
from portcullis.ratelimit.subjects import ClientRequest
from portcullis.store import ratelimits as counter_store
from portcullis.store.ratelimits import RateCounter
from portcullis.store.transactions import Update

LIMIT_NAME = "firstFactorFailuresPerIp"


def _parts(req: ClientRequest) -> tuple[str, str, str]:
    return (req.mode, req.tenant_id, req.ip)


def failed(req: ClientRequest, error: PortcullisError) -> PortcullisError:
    """Count one failed attempt of the request's IP: returns `error` (the 400 to raise)
    or, past the limit, a 429 with Retry-After."""
    counted = fixedwindow.count(LIMIT_NAME, req.limits.firstFactorFailuresPerIp, *_parts(req))
    if counted.exceeded:
        return TooManyRequests(CLIENT_RATE_LIMITED, retry_after=counted.retry_after)
    return error


def guard(req: ClientRequest) -> Update:
    """The condition a successful sign-in's transaction carries: the IP's failures are
    still under the limit. (`ADD 0` only because an update needs an action.)"""
    limit = req.limits.firstFactorFailuresPerIp
    start, end = fixedwindow.window(limit, time.time())
    item = RateCounter(f"RATE#{LIMIT_NAME}#{fixedwindow.key(*_parts(req))}", str(start))
    return Update(
        item,
        [
            RateCounter.hits.add(0),
            RateCounter.type.set("rate"),
            RateCounter.ttl.set(end + fixedwindow.EXPIRY_MARGIN_SECONDS),
        ],
        RateCounter.hits.does_not_exist() | (RateCounter.hits < limit.limit),
    )


def refuse_if_exhausted(req: ClientRequest) -> None:
    """After a sign-in transaction failed its conditions: 429 when the IP's failures
    used up the window (the guard was the condition that failed), else nothing."""
    limit = req.limits.firstFactorFailuresPerIp
    start, end = fixedwindow.window(limit, time.time())
    hashed = fixedwindow.key(*_parts(req))
    if counter_store.current(LIMIT_NAME, hashed, start) >= limit.limit:
        raise TooManyRequests(CLIENT_RATE_LIMITED, retry_after=max(1, end - int(time.time())))
