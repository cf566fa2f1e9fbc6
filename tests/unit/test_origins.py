"""The strict origin reader (`portcullis.platform.origins`) against a corpus of confusable origins.

Every accepted origin is also read by Node's WHATWG `new URL()`: the host we hand on
must be the host a browser reads, and our serialisation must be the browser's origin.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from portcullis.platform.origins import (
    InvalidOrigin,
    Origin,
    cors_origin,
    parse_origin,
    redirect_problem,
    request_origin,
    site_path_problem,
)
from portcullis.tenancy.domains import live_origin, mode_from_origin

LIVE = [{"domain": "app.example.com", "includeSubdomains": True}]

ACCEPTED = {
    "https://app.example.com": "https://app.example.com",
    "HTTPS://APP.Example.COM": "https://app.example.com",
    "https://app.example.com:443": "https://app.example.com",
    "http://app.example.com:80": "http://app.example.com",
    "https://app.example.com:8443": "https://app.example.com:8443",
    "http://localhost:3000": "http://localhost:3000",
    "http://127.0.0.1:5173": "http://127.0.0.1:5173",
    "http://192.168.1.20": "http://192.168.1.20",
    "http://[::1]:3000": "http://[::1]:3000",
    "http://[0:0:0:0:0:0:0:1]": "http://[::1]",
    "https://xn--bcher-kva.de": "https://xn--bcher-kva.de",
    "https://bücher.de": "https://xn--bcher-kva.de",
    # A Cyrillic "а": a different host, which must never read as app.example.com.
    "https://\u0430pp.example.com": "https://xn--pp-6kc.example.com",
    "https://xn--pp-6kc.example.com": "https://xn--pp-6kc.example.com",
}

REFUSED = [
    "https://evil.test\\@app.example.com",
    "https://evil.test@app.example.com",
    "https://user:pw@app.example.com",
    "https://evil.test%5C@app.example.com",
    "https://evil.test%5c.app.example.com",
    "https://app%2eexample.com",
    "https://app.example.com\t",
    "https://app.exa\tmple.com",
    "https://app.exa\nmple.com",
    "https://app.exa\rmple.com",
    " https://app.example.com",
    "https://app.example.com ",
    "https://app.exa mple.com",
    "https://app.example.com\u00a0",
    "https://app.exa\u200bmple.com",
    "https://app.example.com\x00",
    "https:evil.test",
    "https:/evil.test",
    "https:/\\evil.test",
    "https:\\\\evil.test",
    "https://\\evil.test",
    "//evil.test",
    "https://",
    "https://:443",
    "https://app.example.com/",
    "https://app.example.com/login",
    "https://app.example.com?x=1",
    "https://app.example.com#x",
    "https://app.example.com.",
    "https://app..example.com",
    "https://.app.example.com",
    "https://-app.example.com",
    "https://app_1.example.com",
    "https://xn--zz.example.com",
    "https://app.example.com:0",
    "https://app.example.com:65536",
    "https://app.example.com:",
    "https://app.example.com:44a",
    "https://127.1",
    "https://0x7f.0.0.1",
    "https://2130706433",
    "https://127.000.000.001",
    "https://1.2.3.256",
    "https://[::1",
    "https://[evil.test]",
    "https://[::1%25eth0]",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "null ",
    "",
    "x" * 3000,
]


@pytest.fixture(scope="module")
def whatwg():
    """Read URLs with Node's `new URL()`: one Node process for the whole corpus."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (it is on PATH in the dev set-up and in CI)")

    def read(values: list[str]) -> list[dict[str, str] | None]:
        script = (
            "const vs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
            "console.log(JSON.stringify(vs.map(v => { try { const u = new URL(v);"
            " return {host: u.hostname, origin: u.origin}; } catch (e) { return null; } })));"
        )
        done = subprocess.run(
            [node, "-e", script], input=json.dumps(values), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return read


@pytest.mark.parametrize(("value", "serialised"), sorted(ACCEPTED.items()))
def test_accepted_origins_serialise_canonically(value: str, serialised: str) -> None:
    assert parse_origin(value).origin == serialised


@pytest.mark.parametrize("value", REFUSED)
def test_confusable_origins_are_refused(value: str) -> None:
    with pytest.raises(InvalidOrigin):
        parse_origin(value)


def test_accepted_origins_read_the_same_in_a_whatwg_parser(whatwg) -> None:
    values = list(ACCEPTED)
    for value, read in zip(values, whatwg(values), strict=True):
        ours = parse_origin(value)
        assert read is not None, value
        assert read["origin"] == ours.origin, value
        assert read["host"].strip("[]") == ours.host.strip("[]"), value


def test_refused_origins_never_select_live_mode() -> None:
    for value in REFUSED:
        assert mode_from_origin(value, LIVE) == "test", value


def test_what_python_and_browsers_disagree_on_is_refused(whatwg) -> None:
    """The issue-8 case: urlsplit reads the live domain, a browser reads the attacker's."""
    from urllib.parse import urlsplit

    value = "https://evil.test\\@app.example.com"
    assert urlsplit(value).hostname == "app.example.com"
    assert whatwg([value])[0]["host"] == "evil.test"
    with pytest.raises(InvalidOrigin):
        parse_origin(value)


def test_request_origin_treats_null_and_app_schemes_as_none() -> None:
    assert request_origin(None) is None
    assert request_origin("") is None
    assert request_origin("null") is None
    assert request_origin("capacitor://localhost") is None
    with pytest.raises(InvalidOrigin):
        request_origin("capacitor://evil.test\\@localhost")
    assert request_origin("https://app.example.com") == Origin("https", "app.example.com")


def test_cors_echoes_only_our_serialisation() -> None:
    assert cors_origin("HTTPS://App.Example.com:443") == "https://app.example.com"
    assert cors_origin("capacitor://localhost") == "capacitor://localhost"
    assert cors_origin("https://evil.test\\@app.example.com") is None
    assert cors_origin("https://a.test\r\nSet-Cookie: x=1") is None
    assert cors_origin(None) is None


def test_live_links_come_from_the_matched_domain() -> None:
    assert live_origin(parse_origin("https://APP.example.com"), LIVE) == Origin(
        "https", "app.example.com"
    )
    assert live_origin(parse_origin("https://eu.app.example.com:8443"), LIVE) == Origin(
        "https", "eu.app.example.com", 8443
    )
    assert live_origin(parse_origin("https://xn--pp-6kc.example.com"), LIVE) is None
    assert live_origin(parse_origin("http://app.example.com"), LIVE) is None
    assert live_origin(None, LIVE) is None


@pytest.mark.parametrize(
    "path", ["/", "/dashboard", "/a/b?c=d#e", "/%2F%2Fevil.test", "/login?next=/x"]
)
def test_site_paths(path: str) -> None:
    assert site_path_problem(path) is None


@pytest.mark.parametrize(
    "path",
    ["", "dashboard", "//evil.test", "/\\evil.test", "/x\\y", "/a\tb", "/a\nb", "/a b", "/\x7f"],
)
def test_not_site_paths(path: str) -> None:
    assert site_path_problem(path) is not None


def _same(origin: Origin) -> bool:
    return origin.origin == "https://app.example.com"


@pytest.mark.parametrize(
    "target",
    ["/dashboard", "https://app.example.com", "https://app.example.com/x?y=1#z"],
)
def test_redirects_accepted(target: str) -> None:
    assert redirect_problem(target, _same) is None


@pytest.mark.parametrize(
    "target",
    [
        "//evil.test",
        "/\\evil.test",
        "https://evil.test",
        "https://evil.test\\@app.example.com/x",
        "https://app.example.com@evil.test/x",
        "https:evil.test",
        "https:/\\evil.test",
        "https://app.example.com.evil.test/",
        "https://app.example.com//evil.test",
        "https://app.example.com/a\tb",
        "https://app.example.com?x",
        "javascript:alert(1)",
        "dashboard",
        "",
        None,
        12,
    ],
)
def test_redirects_refused(target: object) -> None:
    assert redirect_problem(target, _same) is not None


PIECES = [
    "https://",
    "http://",
    "https:",
    "http:/",
    "//",
    "/",
    "\\",
    "@",
    ":",
    ".",
    "..",
    "%5C",
    "%40",
    "%2e",
    "\t",
    "\n",
    " ",
    "#",
    "?",
    "[",
    "]",
    "::1",
    "443",
    "8443",
    "0",
    "evil.test",
    "app.example.com",
    "APP",
    "xn--",
    "xn--pp-6kc",
    "\u0430",
    "\uff0e",
    "\u3002",
    "\uff20",
    "\u200b",
    "127",
    "0x7f",
    "1",
    "-",
    "_",
    "localhost",
]


def test_generated_origins_are_refused_or_read_alike_by_whatwg(whatwg) -> None:
    """Thousands of strings glued from the pieces parsers disagree on: whatever we
    accept, Node's WHATWG parser reads with the same origin and host."""
    import random

    rng = random.Random(8)
    accepted: dict[str, Origin] = {}
    for _ in range(20_000):
        value = "".join(rng.choice(PIECES) for _ in range(rng.randint(2, 7)))
        if rng.random() < 0.7:
            value = rng.choice(["https://", "http://"]) + value
        try:
            accepted[value] = parse_origin(value)
        except InvalidOrigin:
            continue
    assert len(accepted) > 50
    values = list(accepted)
    for value, read in zip(values, whatwg(values), strict=True):
        ours = accepted[value]
        assert read is not None, value
        assert (read["origin"], read["host"].strip("[]")) == (
            ours.origin,
            ours.host.strip("[]"),
        ), value
