"""The one strict reader of origins and redirect targets (issue 8, docs/auth.md "Origins").

Everything a client sends that names a site — `Origin` / `x-origin` (the mode, the host
of emailed links, CORS), `options.redirect`, later SSO and SAML return addresses — goes
through here before anything reads it. The danger is two parsers disagreeing: Python's
`urlsplit("https://evil.test\\@app.example.com").hostname` is `app.example.com` while a
browser (WHATWG URL) reads host `evil.test`. So the grammar accepted here is so narrow
that every WHATWG parser reads the same host from it, and what we hand on is our own
serialisation (ASCII, lower case, default port dropped), never the string we were sent:

    scheme "://" host [":" port]

- scheme `http` or `https` (a well-formed origin of another scheme, such as a native
  web view's `capacitor://localhost`, is read as "no web origin": test mode, CORS echo);
- host: LDH labels (`a-z`, `0-9`, `-`, not starting or ending with `-`), a dotted-quad
  IPv4 address without leading zeros, or a bracketed IPv6 address. A Unicode host is
  normalised with UTS #46 (the `idna` library, non-transitional, as browsers do) to its
  A-label form; an `xn--` label that is not valid punycode is refused;
- port: 1–65535; the scheme's default port is dropped.

Refused: userinfo (`@`), backslashes, paths (also a lone `/`), query, fragment, percent
escapes, whitespace and control characters anywhere (WHATWG silently strips tab and
newline, which would make us read a different string than a browser), an empty label,
and a trailing dot (`app.example.com.` is a different origin to a browser — other
cookies and storage — so it never stands for the live domain `app.example.com`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import NamedTuple

WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_LENGTH = 2048
MAX_HOST_LENGTH = 253

_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]{0,31})://"
    r"(?P<host>\[[0-9a-f:.]+\]|[^\[\]:/\\?#@%]+)"
    r"(?::(?P<port>[0-9]{1,5}))?",
    re.IGNORECASE,
)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
# WHATWG reads a host whose last label is a number (decimal or 0x-hex) as IPv4
# (`127.1`, `0x7f.1`, `2130706433`): anything like that but a plain dotted quad is refused.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


class InvalidOrigin(ValueError):
    """Not an origin this service reads; the message says why (for logs and tests)."""


class Origin(NamedTuple):
    """An origin as we read it; `host` is ASCII and lower case, `port` None when default."""

    scheme: str
    host: str
    port: int | None = None

    @property
    def origin(self) -> str:
        """The serialisation (`https://app.example.com:8443`), the only form we emit."""
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{self.host}{port}"

    @property
    def is_web(self) -> bool:
        return self.scheme in WEB_SCHEMES

    @property
    def is_ip(self) -> bool:
        return self.host.startswith("[") or bool(_IPV4.fullmatch(self.host))

    @property
    def is_local(self) -> bool:
        return self.host == "localhost" or self.host.endswith(".localhost")


def _plain_text(value: str) -> bool:
    """No whitespace, control or format characters (tab, newline, NBSP, ZWSP...)."""
    return value.isprintable() and not any(ch.isspace() for ch in value)


def ascii_host(host: str) -> str:
    """`host` as the A-label form a browser would use, or InvalidOrigin."""
    if host.isascii() and "xn--" not in host.lower():
        return host.lower()
    import idna  # only for Unicode or punycode hosts: keeps the common path lean

    try:
        return idna.encode(host, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError) as error:
        raise InvalidOrigin(f"host is not a valid internationalised name: {error}") from None


def _host(raw: str) -> str:
    if raw.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(raw[1:-1]).compressed}]"
        except ValueError:
            raise InvalidOrigin("invalid IPv6 address") from None
    host = ascii_host(raw)
    if not host or len(host) > MAX_HOST_LENGTH:
        raise InvalidOrigin("host is empty or too long")
    if host.endswith("."):
        raise InvalidOrigin("host ends with a dot")
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        if not _IPV4.fullmatch(host):
            raise InvalidOrigin("host is a number but not a dotted-quad IPv4 address")
        return host
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidOrigin("host must be letters, digits and hyphens between dots")
    return host


def parse_origin(value: object, *, web_only: bool = True) -> Origin:
    """Read `scheme://host[:port]` strictly (module docstring), or raise InvalidOrigin.

    `web_only=False` also accepts another scheme with the same strict grammar, for
    callers that only echo the origin (CORS) or treat it as "no web origin".
    """
    if not isinstance(value, str) or not value:
        raise InvalidOrigin("origin is empty")
    if len(value) > MAX_LENGTH or not _plain_text(value):
        raise InvalidOrigin("origin contains whitespace or control characters")
    match = _ORIGIN.fullmatch(value)
    if match is None:
        raise InvalidOrigin("origin must be scheme://host[:port] and nothing else")
    scheme = match.group("scheme").lower()
    if web_only and scheme not in WEB_SCHEMES:
        raise InvalidOrigin("scheme must be http or https")
    port: int | None = None
    if match.group("port") is not None:
        port = int(match.group("port"))
        if not 0 < port <= 65535:
            raise InvalidOrigin("port out of range")
        if DEFAULT_PORTS.get(scheme) == port:
            port = None
    return Origin(scheme=scheme, host=_host(match.group("host")), port=port)


def request_origin(value: str | None) -> Origin | None:
    """The web origin of a request from its `x-origin` / `Origin` value.

    None when it has none: absent, empty, `null` (the opaque origin of sandboxed and
    file pages) or a well-formed origin of a non-web scheme (a native app's web view).
    Raises InvalidOrigin for anything else that is not a strict http(s) origin.
    """
    if value is None or value == "" or value == "null":
        return None
    origin = parse_origin(value, web_only=False)
    return origin if origin.is_web else None


def cors_origin(value: str | None) -> str | None:
    """What CORS may echo for this `Origin`: our serialisation of it, or None."""
    if not value:
        return None
    try:
        return parse_origin(value, web_only=False).origin
    except InvalidOrigin:
        return None


# --------------------------------------------------------------------- redirect targets

MAX_REDIRECT_LENGTH = 2048


def site_path_problem(value: str) -> str | None:
    """Why `value` is not a path on this site (`/x`), or None.

    Browsers read `//evil.test` and `/\\evil.test` as another host, and strip tab and
    newline before reading, so none of those may appear.
    """
    if not value.startswith("/") or value.startswith("//"):
        return "must be a path starting with a single /"
    if "\\" in value:
        return "must not contain a backslash"
    if not _plain_text(value):
        return "must not contain whitespace or control characters"
    if len(value) > MAX_REDIRECT_LENGTH:
        return "is too long"
    return None


def redirect_problem(value: object, same_site: Callable[[Origin], bool]) -> str | None:
    """Why `value` may not be a redirect target, or None.

    A target is a site path, or an absolute http(s) URL whose origin (read by
    `parse_origin`) `same_site` accepts, followed by a site path or nothing.
    """
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if value.startswith("/"):
        return site_path_problem(value)
    scheme_end = value.find("://")
    if scheme_end < 0:
        return "must be a path starting with / or an absolute URL of this site"
    path_start = value.find("/", scheme_end + 3)
    head, path = (value, "") if path_start < 0 else (value[:path_start], value[path_start:])
    if path_start < 0 and any(ch in value for ch in "?#"):
        return "must be a path starting with / or an absolute URL of this site"
    try:
        origin = parse_origin(head)
    except InvalidOrigin:
        return "must be a path starting with / or an absolute URL of this site"
    if path and site_path_problem(path):
        return site_path_problem(path)
    if not same_site(origin):
        return "must be on this site"
    return None
