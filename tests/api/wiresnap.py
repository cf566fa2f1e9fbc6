"""JSON snapshots of wire payloads (issue 9 item 5), used by `test_wire_snapshots.py`.

A snapshot is `snapshots/<kind>.json`: the status code and the body of one response,
pretty-printed with sorted keys so a change of shape is a reviewable diff. Values that
differ on every run (ids, uuids, timestamps, tokens, keys, links carrying tokens) are
replaced by placeholders such as `"<uuid>"` before the comparison; everything else (key
sets, nesting, types, stable values) is compared as is.

A value is replaced only when its field name AND its value's pattern (and so its type)
say it is volatile; anything else is kept verbatim. So a `userId` that turned from an
integer into a string, or a timestamp that lost its `Z`, is not normalised and shows up
in the diff, while an eight-letter word that is not a `tenantId` stays a word.

`UPDATE_SNAPSHOTS=1 pytest tests/api/test_wire_snapshots.py` rewrites the files from the
current answers (review the diff, then commit it). Without it a missing file fails the
test instead of being written, so a snapshot can never be created silently in CI.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
UPDATE_VARIABLE = "UPDATE_SNAPSHOTS"

ANY_FIELD = "*"

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ISO_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$")
_JWT = re.compile(r"^eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_TENANT_ID = re.compile(r"^[a-z0-9]{8}$")
_API_KEY = re.compile(r"^uf_(test|live)_(admin|readonly|webhook)_[a-z0-9]{8}_[0-9a-f]{32}$")
_MASKED_KEY = re.compile(r"^uf_(test|live)_(admin|readonly|webhook)_[a-z0-9]{8}_\*{4}[0-9a-f]{4}$")
_PEM = re.compile(r"^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n?$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")
# What `test_wire_snapshots.snap_email` and `snap_phone` make.
_TEST_EMAIL = re.compile(r"^snap-[0-9a-f]{12}@example\.com$")
_TEST_PHONE = re.compile(r"^\+1555[0-9]{7}$")
_CODE = re.compile(r"^[0-9]{6}$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_FIRST_FACTOR = re.compile(r"^uf_(test|live)_first_factor_[0-9a-f]{32}$")
_IPV4 = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$")
_BASE_URL = re.compile(r"^https?://[^/?#]+$")


@dataclass(frozen=True)
class Rule:
    """Replace a value of a field in `fields` (or of any field) whose type and pattern match.

    `placeholder` is the replacement, or a function of the value for a number that is
    volatile only in its last digits.
    """

    fields: tuple[str, ...]
    kinds: type | tuple[type, ...]
    placeholder: str | Callable[[Any], Any]
    pattern: re.Pattern[str] | None = None

    def applies(self, field: str | None, value: Any) -> bool:
        if ANY_FIELD not in self.fields and field not in self.fields:
            return False
        # The exact type: a boolean is an int to isinstance, never a volatile integer.
        kinds = self.kinds if isinstance(self.kinds, tuple) else (self.kinds,)
        if type(value) not in kinds:
            return False
        return self.pattern is None or bool(self.pattern.match(str(value)))

    def replace(self, value: Any) -> Any:
        return self.placeholder(value) if callable(self.placeholder) else self.placeholder


def _days(value: float) -> float | int:
    """A cookie lifetime in days, to about a quarter of an hour: a refresh cookie's is the
    session's remaining life (30 or 29.99999 depending on when the tokens were cut)."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


# First match wins. Field-specific rules come before the value-only ones.
RULES: tuple[Rule, ...] = (
    Rule(("tenantId", "parentTenantId"), str, "<tenant-id>", _TENANT_ID),
    # Sequential per tenant, so they depend on how many users a test made before.
    Rule(("userId", "rot"), int, "<int>"),
    Rule(("iat", "exp", "nbf"), int, "<epoch-seconds>"),
    Rule(("expires",), (int, float), _days),  # cookieOptions (api-client §1.1)
    Rule(("verificationCode",), str, "<6-digit-code>", _CODE),
    Rule(("authorizationCode",), str, "<authorization-code>", _SECRET_TOKEN),
    Rule(("firstFactorToken",), str, "<first-factor-token>", _FIRST_FACTOR),
    Rule(("n",), str, "<base64url>", _BASE64URL),  # JWKS modulus
    Rule(("publicKeyBase64",), str, "<base64>", _BASE64),
    Rule(("key",), str, "<api-key>", _API_KEY),
    Rule(("key",), str, "<masked-api-key>", _MASKED_KEY),
    Rule(("publicKey",), str, "<public-key-pem>", _PEM),
    # The issuer is the API's base URL: a free port locally.
    Rule(("iss",), str, "<base-url>", _BASE_URL),
    # Each test connects from its own loopback address (infra.local.testing.client).
    Rule(("ipAddress", "lastIpAddress"), str, "<ipv4>", _IPV4),
    Rule((ANY_FIELD,), str, "<uuid>", _UUID),
    Rule((ANY_FIELD,), str, "<iso-time>", _ISO_TIME),
    Rule((ANY_FIELD,), str, "<jwt>", _JWT),
    Rule((ANY_FIELD,), str, "<email>", _TEST_EMAIL),
    Rule((ANY_FIELD,), str, "<phone>", _TEST_PHONE),
)

# Objects whose keys are tenant ids (api-client §1.3 `authorization`).
TENANT_KEYED = frozenset({"authorization"})


def _normalise_url(value: str) -> str:
    """A URL keeps scheme, host and path; each query value is normalised by its name."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.query:
        return value
    query = [(name, _scalar(name, item)) for name, item in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="<>-")))


def _scalar(field: str | None, value: Any) -> Any:
    for rule in RULES:
        if rule.applies(field, value):
            return rule.replace(value)
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return _normalise_url(value)
    return value


def normalise(value: Any, field: str | None = None) -> Any:
    """`value` with every volatile leaf replaced by its placeholder (see `RULES`)."""
    if isinstance(value, dict):
        if field in TENANT_KEYED:
            return {
                ("<tenant-id>" if _TENANT_ID.match(key) else key): normalise(item, key)
                for key, item in value.items()
            }
        return {key: normalise(item, key) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item, field) for item in value]
    return _scalar(field, value)


def render(status: int, body: Any) -> str:
    """What a snapshot file holds: pretty, sorted, newline-terminated JSON."""
    document = {"status": status, "body": normalise(body)}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check(kind: str, status: int, body: Any, directory: Path = SNAPSHOT_DIR) -> None:
    """Compare (or with UPDATE_SNAPSHOTS=1 rewrite) `snapshots/<kind>.json`."""
    path = directory / f"{kind}.json"
    actual = render(status, body)
    if os.environ.get(UPDATE_VARIABLE) == "1":
        directory.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != actual:
            path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with {UPDATE_VARIABLE}=1 and review it"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        raise AssertionError(
            f"{kind}: the wire shape changed; if on purpose, rerun with {UPDATE_VARIABLE}=1\n"
            + _diff(expected, actual, path.name)
        )


def _diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True),
        actual.splitlines(keepends=True),
        fromfile=f"snapshots/{name}",
        tofile="response",
    )
    return "".join(lines)
