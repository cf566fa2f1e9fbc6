"""Live domains and the origin → mode decision (api-client §0.6, concepts §1.3–1.4)."""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import TYPE_CHECKING, Any

from portcullis.platform.origins import (
    InvalidOrigin,
    Origin,
    ascii_host,
    parse_origin,
    request_origin,
)

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList


@cache
def _psl() -> PublicSuffixList:
    # Imported here: only an admin adding a live domain needs the list (its import is
    # ≈ 2.6 ms, building it ≈ 30 ms), and every HTTP function imports this module.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def normalise_host(host: str) -> str:
    """Lowercase, strip a trailing dot, IDNA-encode so `bücher.de` and `xn--bcher-kva.de` match
    (UTS #46 non-transitional, the way browsers and `origins` read hosts)."""
    host = host.strip().rstrip(".").lower()
    try:
        return ascii_host(host)
    except InvalidOrigin:
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
    try:
        parsed = parse_origin(f"https://{host}")
    except InvalidOrigin:
        parsed = None
    if parsed is None or parsed.origin != f"https://{host}":
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


def live_origin(origin: Origin | None, live_domains: list[dict[str, Any]]) -> Origin | None:
    """The origin links go to when `origin` selects live mode, else None.

    Live needs an https origin (read by `origins.parse_origin`, so its host is the one
    a browser reads) whose host is, or is under, a listed domain. The result is built
    from the stored domain of the matched record: the part of the host before it (a
    subdomain the page is on), the record's own domain, and the page's port.
    """
    if origin is None or origin.scheme != "https" or origin.is_ip or origin.is_local:
        return None
    for entry in live_domains:
        if host_matches(origin.host, entry):
            domain = normalise_host(str(entry["domain"]))
            prefix = origin.host[: len(origin.host) - len(domain)]
            return Origin(scheme="https", host=prefix + domain, port=origin.port)
    return None


def mode_from_origin(origin: str | None, live_domains: list[dict[str, Any]]) -> str:
    """`live` only for a strict https origin on (or under) a live domain; else `test`,
    also for an origin `origins.parse_origin` refuses."""
    try:
        parsed = request_origin(origin)
    except InvalidOrigin:
        return "test"
    return "live" if live_origin(parsed, live_domains) else "test"
