"""Placeholder of whconfig's target URL policy, so the delivery pipeline runs on its own
branch. whconfig provides this: deleted when whconfig's branch is merged."""

# whconfig provides this

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

from portcullis.tenancy.settings import TenantSettings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):  # whconfig provides this
    """The URL may not be delivered to."""


def resolve(url: str, mode: str) -> list[IpAddress]:  # whconfig provides this
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("bad url")
    if mode == "live" and parts.scheme != "https":
        raise TargetRefused("https only")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise TargetRefused(f"cannot resolve {parts.hostname}") from error
    addresses: list[IpAddress] = [ipaddress.ip_address(info[4][0]) for info in infos]
    local_ok = mode == "test" and (
        os.environ.get("WEBHOOKS_ALLOW_LOCALHOST") == "true" or os.environ.get("STAGE") == "local"
    )
    for address in addresses:
        if address.is_loopback and local_ok:
            continue
        if not address.is_global:
            raise TargetRefused(f"{address} is not a public address")
    return addresses


def url_for(
    settings: TenantSettings, model: str, action: str
) -> str | None:  # whconfig provides this
    past = {"create": "Created", "update": "Updated", "delete": "Deleted", "end": "Ended"}
    if action not in past:
        return None
    value = getattr(settings, f"{model}{past[action]}WebhookUrl", None)
    return value if isinstance(value, str) and value else None
