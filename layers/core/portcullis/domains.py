"""Live domains and the origin → mode decision (api-client §0.6, concepts §1.3–1.4)."""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


def normalise_host(host: str) -> str:
    """Lowercase, strip a trailing dot, IDNA-encode so `bücher.de` and `xn--bcher-kva.de` match."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def domain_problem(domain: str) -> str | None:
    """Why `domain` can never be a live domain, or None when it is acceptable."""
    host = normalise_host(domain)
    if not host or "/" in host or ":" in host or " " in host:
        return "must be a host name without scheme, port or path"
    if host == "localhost" or host.endswith(".localhost") or _is_ip(host):
        return "cannot be localhost or an IP address"
    if "." not in host:
        return "must be a fully qualified domain name"
    if _psl().is_public(host):
        return "cannot be a public suffix"
    return None


def host_matches(host: str, entry: dict[str, Any]) -> bool:
    domain = normalise_host(str(entry.get("domain", "")))
    if not domain:
        return False
    if host == domain:
        return True
    return bool(entry.get("includeSubdomains", True)) and host.endswith("." + domain)


def mode_from_origin(origin: str | None, live_domains: list[dict[str, Any]]) -> str:
    """`live` only for an https origin whose host is (under) a live domain; else `test`."""
    if not origin:
        return "test"
    try:
        parts = urlsplit(origin.strip())
        host = parts.hostname
    except ValueError:
        return "test"
    if parts.scheme != "https" or not host:
        return "test"
    host = normalise_host(host)
    if host == "localhost" or _is_ip(host):
        return "test"
    return "live" if any(host_matches(host, entry) for entry in live_domains) else "test"
