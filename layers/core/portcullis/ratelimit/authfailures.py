"""`authFailuresPerIp`: failed credentials per source IP, for every kind of caller.

api-server §6 limits failed authentication per source IP; Portcullis applies the same
counter to the client API's tokens (access, refresh, PKCE codes), so guessing or
replaying tokens at `/v0/self` or `/v0/auth/refresh` is limited like guessing API
keys. One counter per IP (hashed), shared by both APIs; the threshold is that of the
tenant a failure can be tied to (an API key's prefix, a token whose signature checked
out and whose settings were read), else the default.

Only failures are counted, so a valid credential costs nothing here. Past the limit a
failure answers 429 instead of 401 until the window ends; an instance that has seen an
address over the limit answers that address's further requests with a credential
from memory (`check`), before looking the credential up or writing the counter again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from portcullis.platform.errors import (
    CLIENT_RATE_LIMITED,
    MissingAuthentication,
    PortcullisError,
    TooManyRequests,
    Unauthorized,
)
from portcullis.ratelimit import fixedwindow
from portcullis.tenancy.settings import RateLimit, RateLimits, TenantSettings

NAME = "authFailuresPerIp"
MAX_ADDRESSES = 10_000

_lock = threading.Lock()
_over: dict[str, int] = {}  # address -> end of the window in which it passed the limit


def _known_over(ip: str, now: float) -> int | None:
    with _lock:
        until = _over.get(ip)
    return until if until is not None and until > now else None


def _remember(ip: str, until: int, now: float) -> None:
    with _lock:
        if len(_over) >= MAX_ADDRESSES:
            for address in [a for a, end in _over.items() if end <= now] or list(_over)[:1]:
                del _over[address]
        _over[ip] = until


def check(ip: str, message: str | None = None) -> None:
    """Refuse (429) an address this instance already knows is over the limit, BEFORE
    its credential is looked up: a flood of made-up credentials (e.g. tokens naming
    random tenants) then costs no DynamoDB read. While over, its valid credentials
    wait too (until the window ends)."""
    now = time.time()
    until = _known_over(ip, now)
    if until is not None:
        raise TooManyRequests(message, retry_after=max(1, until - int(now)))


def failed(
    ip: str,
    limit: Callable[[], RateLimit],
    error: PortcullisError,
    *,
    message: str | None = None,
) -> PortcullisError:
    """Count one failed credential of `ip`: returns `error` (the 401 to raise) or, past
    the limit, a 429 with Retry-After. `limit` is only called (it may read settings)
    when the address is not already known to be over the limit."""
    now = time.time()
    until = _known_over(ip, now)
    if until is not None:
        return TooManyRequests(message, retry_after=until - int(now))
    counted = fixedwindow.count(NAME, limit(), ip)
    if not counted.exceeded:
        return error
    _remember(ip, counted.end, now)
    return TooManyRequests(message, retry_after=counted.retry_after)


class Watch:
    """A block whose 401s (but not `Missing authentication`) count as failures of `ip`.

    `settings` may be handed the tenant's stored overrides once the credential's
    signature has been checked, so the tenant's threshold applies; it is parsed only
    if the block fails.
    """

    def __init__(self, ip: str, message: str = CLIENT_RATE_LIMITED) -> None:
        self.ip = ip
        self.message = message
        self.overrides: dict[str, Any] | None = None

    def settings(self, overrides: dict[str, Any] | None) -> None:
        self.overrides = overrides

    def _limit(self) -> RateLimit:
        try:
            return TenantSettings.model_validate(self.overrides or {}).rateLimits.authFailuresPerIp
        except ValueError:  # overrides an older version wrote: the default applies
            return RateLimits().authFailuresPerIp

    def presented(self) -> None:
        """A credential is about to be looked up: refuse an address known to be over
        the limit first (`check`). Not in `__enter__`: a request without any credential
        still learns `Missing authentication`."""
        check(self.ip, self.message)

    def __enter__(self) -> Watch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not isinstance(error, Unauthorized) or isinstance(error, MissingAuthentication):
            return
        replacement = failed(self.ip, self._limit, error, message=self.message)
        if replacement is not error:
            raise replacement from None


def forget() -> None:
    """Drop the addresses remembered as over the limit (tests)."""
    with _lock:
        _over.clear()
