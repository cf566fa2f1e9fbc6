"""One webhook POST (concepts §5.4): to an address the URL check approved just before,
within 10 seconds, no redirect followed, and what the delivery log keeps of it.

Each POST connects only to an address `targets.resolve` approved, with the TLS server
name and `Host` of the URL (`PinnedTransport`): a DNS answer that changes between the
check and the connection (rebinding) cannot redirect it. Apart from `delivery.py`, which
imports it when it sends, nothing imports this module, so only the delivery function
loads httpx.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import httpcore
import httpx

from portcullis.platform.timefmt import now_iso
from portcullis.webhooks import targets

TIMEOUT_SECONDS = 10.0
RESPONSE_KEEP_BYTES = 1024
RETRYABLE_STATUSES = frozenset({408, 429})

Outcome = Literal["pending", "succeeded", "failed"]


# -- connecting only to the approved address ---------------------------------------------


class _PinnedBackend(httpcore.SyncBackend):
    """Opens every TCP connection to one address, whatever host the URL names; TLS
    still uses the URL's host for SNI and certificate checks (httpcore passes it)."""

    def __init__(self, address: str) -> None:
        self._address = address

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return super().connect_tcp(self._address, port, timeout, local_address, socket_options)


@cache
def _ssl_context() -> ssl.SSLContext:
    """Built once per instance: loading the CA bundle costs tens of milliseconds."""
    return httpx.create_ssl_context()


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool connecting to `address` only."""

    def __init__(self, address: str) -> None:
        super().__init__(retries=0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=1,
            retries=0,
            network_backend=_PinnedBackend(address),
        )


@dataclass(frozen=True)
class Attempt:
    """One POST: what the log keeps of it and whether to try again."""

    record: dict[str, Any]
    outcome: Outcome  # succeeded, failed (for good) or pending (retry)


def post(url: str, mode: str, body: bytes, headers: Mapping[str, str]) -> Attempt:
    """POST `body` to `url` once, at an address checked just now."""
    started = time.monotonic()
    entry: dict[str, Any] = {"at": now_iso(), "statusCode": None, "latencyMs": 0}
    try:
        addresses = targets.resolve(url, mode)
    except targets.TargetRefused as error:
        entry["latencyMs"] = round((time.monotonic() - started) * 1000)
        entry["error"] = f"refused: {error}"
        # A name that does not resolve (now) is a network error, retried; an address
        # the rules refuse is final.
        transient = str(error).startswith("host name")
        return Attempt(entry, "pending" if transient else "failed")
    if not addresses:
        entry["error"] = "refused: no address"
        return Attempt(entry, "failed")
    timeout = httpx.Timeout(TIMEOUT_SECONDS)
    try:
        with (
            httpx.Client(
                transport=PinnedTransport(str(addresses[0])),
                timeout=timeout,
                follow_redirects=False,
                trust_env=False,
            ) as client,
            client.stream("POST", url, content=body, headers=dict(headers)) as response,
        ):
            kept = bytearray()
            for chunk in response.iter_raw():
                kept.extend(chunk)
                if len(kept) >= RESPONSE_KEEP_BYTES:
                    break
                if time.monotonic() - started > TIMEOUT_SECONDS:
                    break
            status = response.status_code
    except httpx.HTTPError as error:
        entry["latencyMs"] = round((time.monotonic() - started) * 1000)
        entry["error"] = f"{type(error).__name__}: {error}"[:500]
        return Attempt(entry, "pending")
    entry["latencyMs"] = round((time.monotonic() - started) * 1000)
    entry["statusCode"] = status
    entry["response"] = bytes(kept[:RESPONSE_KEEP_BYTES]).decode("utf-8", "replace")
    if 200 <= status < 300:
        return Attempt(entry, "succeeded")
    if status in RETRYABLE_STATUSES or status >= 500:
        return Attempt(entry, "pending")
    if 300 <= status < 400:
        entry["error"] = "redirect not followed"
    return Attempt(entry, "failed")
