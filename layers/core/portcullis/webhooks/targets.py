"""Webhook targets (concepts §5.1, §5.4, §5.5): the URL an event goes to, and whether the
service may connect to it.

SSRF defence in two steps, both failing closed:
- `check_url` (at configuration, and first thing at delivery) reads the URL strictly
  (`platform/weburls.py`: the host a browser would read, no userinfo, no decimal, octal
  or hex IPv4 forms) and applies the mode's rules: live mode `https` only; an IP literal
  or a `localhost` name must be an address `resolve` would accept.
- `resolve` (at configuration with a short timeout, and again right before each delivery
  attempt: DNS may change between the two) resolves the host and refuses the target when
  ANY address is not public: private, loopback, link-local, multicast, reserved,
  unspecified, CGNAT (100.64/10), cloud metadata, or an IPv6 form that embeds one of
  those (IPv4-mapped, IPv4-translated, NAT64, 6to4, Teredo). The caller connects to one
  of the returned addresses, never resolves the name again (DNS rebinding).

Test mode also accepts `http`, and loopback only when the deployment opts in
(`WEBHOOKS_ALLOW_LOCALHOST=true`, set by the local runtime); other private addresses stay
refused in both modes.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from portcullis.platform import config
from portcullis.platform.errors import BadRequest
from portcullis.platform.weburls import InvalidUrl, WebUrl, parse
from portcullis.tenancy.settings import TenantSettings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DNS_TIMEOUT_SECONDS = 3.0
METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
# getaddrinfo has no timeout of its own; a stuck lookup blocks one of these threads, not
# the request (which gives up after DNS_TIMEOUT_SECONDS and refuses the target).
_DNS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")

# (model, action) -> the tenant setting naming the target (concepts §5.1; sessions: the
# opt-in extension, never sent to the six documented URLs).
EVENT_SETTINGS: dict[tuple[str, str], str] = {
    ("user", "create"): "userCreatedWebhookUrl",
    ("user", "update"): "userUpdatedWebhookUrl",
    ("user", "delete"): "userDeletedWebhookUrl",
    ("tenant", "create"): "tenantCreatedWebhookUrl",
    ("tenant", "update"): "tenantUpdatedWebhookUrl",
    ("tenant", "delete"): "tenantDeletedWebhookUrl",
    ("session", "create"): "sessionCreatedWebhookUrl",
    ("session", "end"): "sessionEndedWebhookUrl",
}
# The message-delivery webhooks of §5.5 (`model: "message"`), by channel and kind.
MESSAGE_SETTINGS = (
    "linkEmailWebhookUrl",
    "verificationCodeEmailWebhookUrl",
    "verificationCodeSmsWebhookUrl",
)
URL_SETTINGS: tuple[str, ...] = (*EVENT_SETTINGS.values(), *MESSAGE_SETTINGS)


class TargetRefused(Exception):
    """The service will not connect to this target; the message says why (for the
    delivery log and the 400 of a settings change)."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form stands for (mapped, translated, NAT64, 6to4, Teredo)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _TRANSLATED or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _loopback_allowed(mode: str) -> bool:
    return mode == "test" and config.webhooks_allow_localhost()


def address_problem(address: Address, mode: str) -> str | None:
    """Why the service may not connect to `address` in `mode`, or None."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "resolves to a scoped IPv6 address"
        inner = _embedded_ipv4(address)
        if inner is not None:
            return address_problem(inner, mode)
        if address in _NAT64_LOCAL:
            return "resolves to a non-public address"
    if address.is_loopback:
        return None if _loopback_allowed(mode) else "resolves to a loopback address"
    if address in METADATA:
        return "resolves to a cloud metadata address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "resolves to a non-public address"
    if address.is_link_local:
        return "resolves to a link-local address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "resolves to a non-public address"
    if address.is_private or not address.is_global:
        return "resolves to a private address"
    return None


def _is_local_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _checked(url: str, mode: str) -> WebUrl:
    """The parsed URL if its shape passes the mode's rules; raises InvalidUrl."""
    parsed = parse(url)
    if mode == "live" and parsed.origin.scheme != "https":
        raise InvalidUrl("must be an https URL in live mode")
    literal = parsed.literal
    if literal is not None:
        problem = address_problem(literal, mode)
        if problem:
            raise InvalidUrl(f"must not target a non-public address ({problem})")
    elif _is_local_name(parsed.host) and not _loopback_allowed(mode):
        raise InvalidUrl("must not target localhost")
    return parsed


def check_url(url: str, mode: str, *, field: str) -> str:
    """The normalised URL, or BadRequest naming `field` (no DNS: see `resolve`)."""
    try:
        return _checked(url, mode).url
    except InvalidUrl as error:
        raise BadRequest(f'"{field}" {error}') from None


def _lookup(host: str, port: int) -> list[Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and len(sockaddr) >= 4 and sockaddr[3]:
            address = ipaddress.IPv6Address(f"{address}%{sockaddr[3]}")
        if address not in found:
            found.append(address)
    return found


def resolve(url: str, mode: str, *, timeout: float = DNS_TIMEOUT_SECONDS) -> list[Address]:
    """Every address the URL's host resolves to, all of them allowed in `mode`; else
    TargetRefused (also for a malformed URL, a failed or slow lookup, no address)."""
    try:
        parsed = _checked(url, mode)
    except InvalidUrl as error:
        raise TargetRefused(f"URL {error}") from None
    if parsed.literal is not None:
        return [parsed.literal]
    future = _DNS.submit(_lookup, parsed.host, parsed.port)
    try:
        addresses = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise TargetRefused("host name lookup timed out") from None
    except (OSError, UnicodeError, ValueError):
        raise TargetRefused("host name does not resolve") from None
    if not addresses:
        raise TargetRefused("host name does not resolve")
    for address in addresses:
        problem = address_problem(address, mode)
        if problem:
            raise TargetRefused(f"host {problem}")
    return addresses


def check_reachable(url: str, mode: str, *, field: str) -> str:
    """At configuration: `check_url`, then `resolve` with a short timeout; a refusal is a
    400 naming `field` (fail closed: a name that does not resolve now is refused).

    The 400 does not say which DNS outcome refused the name (no answer, a private
    address...) nor any address: otherwise a tenant admin could map the deployment's
    internal DNS through it."""
    normalised = check_url(url, mode, field=field)
    try:
        resolve(normalised, mode)
    except TargetRefused:
        raise BadRequest(
            f'"{field}" must be a host name that resolves to public addresses only'
        ) from None
    return normalised


def url_for(settings: TenantSettings, model: str, action: str) -> str | None:
    """The configured URL of a record event (`user.create`, ..., `session.end`), or None."""
    name = EVENT_SETTINGS.get((model, action))
    value = getattr(settings, name, None) if name else None
    return value if isinstance(value, str) else None


def message_url_for(settings: TenantSettings, channel: str, kind: str) -> str | None:
    """The §5.5 message-delivery URL of a message (`channel` email/sms; `kind` the record
    type: `verificationCode` or a link email type), or None to send it ourselves."""
    if channel == "sms":
        name = "verificationCodeSmsWebhookUrl" if kind == "verificationCode" else None
    elif channel == "email":
        is_code = kind == "verificationCode"
        name = "verificationCodeEmailWebhookUrl" if is_code else "linkEmailWebhookUrl"
    else:
        name = None
    value = getattr(settings, name, None) if name else None
    return value if isinstance(value, str) else None


def check_settings_change(mode: str, change: Any) -> None:
    """Refuse (400 naming the field) a settings patch that sets a webhook URL the service
    may not deliver to in `mode`: shape, mode rules and DNS (`check_reachable`). Unset
    (`null`) is always allowed; a malformed patch is left to the settings schema."""
    if not isinstance(change, dict):
        return
    for name in URL_SETTINGS:
        value = change.get(name)
        if value is not None:
            check_reachable(value, mode, field=name)
