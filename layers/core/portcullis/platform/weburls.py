"""The strict reader of outbound URLs (webhook targets): the shape only, no DNS.

Why a reader of its own, next to `origins.py`: a webhook URL has a path and a query,
which an origin may not, and its host is what the service will connect to — so the
danger is the same as for origins (two parsers that read different hosts from one
string, e.g. `https://evil.test\\@hooks.example.com`, or a browser reading
`http://2130706433/` as `127.0.0.1`). The grammar accepted here is

    scheme "://" origin-host [":" port] [path] ["?" query]

where the part up to the first `/` or `?` is read by `origins.parse_origin` (userinfo,
backslashes, percent escapes, numeric hosts other than a dotted quad — decimal, octal,
hex or short IPv4 forms — whitespace and control characters are refused, a Unicode host
becomes its A-label form) and the path and query are printable ASCII made of RFC 3986
characters, with `%` only before two hex digits. A fragment is refused (it is never sent).
What we hand on is our own serialisation: the origin as `parse_origin` writes it, then
the path (`/` when empty) and query unchanged. The layer above (`webhooks/targets.py`)
adds the rules that depend on the mode and on DNS.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

from portcullis.platform.origins import InvalidOrigin, Origin, parse_origin

MAX_URL_LENGTH = 2048
# RFC 3986 pchar plus "/" and "?" (query), `%` checked separately.
_REST = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")


class InvalidUrl(ValueError):
    """Not an outbound URL this service reads; the message says why ("must be ...")."""


class WebUrl(NamedTuple):
    """An outbound URL as we read it: `origin` (scheme, ASCII host, port) and the rest."""

    origin: Origin
    path_and_query: str

    @property
    def url(self) -> str:
        return self.origin.origin + self.path_and_query

    @property
    def port(self) -> int:
        return self.origin.port or (443 if self.origin.scheme == "https" else 80)

    @property
    def host(self) -> str:
        """The host to resolve: an IPv6 literal without its brackets."""
        host = self.origin.host
        return host[1:-1] if host.startswith("[") else host

    @property
    def literal(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The address when the host is an IP literal (already a canonical form)."""
        if not self.origin.is_ip:
            return None
        return ipaddress.ip_address(self.host)


def parse(value: object) -> WebUrl:
    """Read an absolute http(s) URL strictly (module docstring), or raise InvalidUrl."""
    if not isinstance(value, str) or not value:
        raise InvalidUrl("must be a non-empty string")
    if len(value) > MAX_URL_LENGTH:
        raise InvalidUrl(f"must be at most {MAX_URL_LENGTH} characters")
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise InvalidUrl("must not contain whitespace or control characters")
    if "#" in value:
        raise InvalidUrl("must not contain a fragment")
    scheme_end = value.find("://")
    if scheme_end < 0:
        raise InvalidUrl("must be an absolute http(s) URL")
    cut = [i for i in (value.find("/", scheme_end + 3), value.find("?", scheme_end + 3)) if i >= 0]
    end = min(cut) if cut else len(value)
    head, rest = value[:end], value[end:]
    try:
        origin = parse_origin(head)
    except InvalidOrigin as error:
        raise InvalidUrl(f"must be an http(s) URL with a plain host ({error})") from None
    if not rest.isascii() or not _REST.fullmatch(rest):
        raise InvalidUrl("must have a path and query of URL characters only")
    if not rest.startswith("/"):
        rest = "/" + rest
    return WebUrl(origin=origin, path_and_query=rest)
