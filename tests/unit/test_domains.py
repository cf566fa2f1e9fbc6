import pytest

from portcullis.tenancy.domains import domain_problem, mode_from_origin

LIVE = [{"domain": "example.com", "includeSubdomains": True}]
EXACT = [{"domain": "sub.example.org", "includeSubdomains": True}]
NO_SUBS = [{"domain": "example.net", "includeSubdomains": False}]


@pytest.mark.parametrize(
    ("origin", "domains", "expected"),
    [
        ("https://example.com", LIVE, "live"),
        ("https://app.example.com", LIVE, "live"),
        ("https://APP.Example.com:8443", LIVE, "live"),
        ("http://example.com", LIVE, "test"),
        ("https://example.com.evil.io", LIVE, "test"),
        ("https://notexample.com", LIVE, "test"),
        ("https://sub.example.org", EXACT, "live"),
        ("https://a.sub.example.org", EXACT, "live"),
        ("https://example.org", EXACT, "test"),
        ("https://example.net", NO_SUBS, "live"),
        ("https://www.example.net", NO_SUBS, "test"),
        ("http://localhost:5173", LIVE, "test"),
        ("https://127.0.0.1", [{"domain": "127.0.0.1"}], "test"),
        (None, LIVE, "test"),
        ("not a url", LIVE, "test"),
        # Read strictly (portcullis.platform.origins): what a browser would read differently is
        # never live, and a trailing dot is another origin to a browser.
        ("https://evil.test\\@example.com", LIVE, "test"),
        ("https://evil.test@example.com", LIVE, "test"),
        ("https://example.com.", LIVE, "test"),
        ("https://example.com/", LIVE, "test"),
        ("https://ex\tample.com", LIVE, "test"),
        ("https://example.com", [], "test"),
    ],
)
def test_mode_from_origin(origin: str | None, domains: list[dict], expected: str) -> None:
    assert mode_from_origin(origin, domains) == expected


@pytest.mark.parametrize("domain", ["example.com", "app.example.co.uk", "bücher.de"])
def test_acceptable_live_domains(domain: str) -> None:
    assert domain_problem(domain) is None


@pytest.mark.parametrize(
    "domain",
    [
        "localhost",
        "127.0.0.1",
        "co.uk",
        "com",
        "https://example.com",
        "ex ample.com",
        "",
        "a_b.example.com",
        "evil.test\\@example.com",
        "example.com:443",
    ],
)
def test_rejected_live_domains(domain: str) -> None:
    assert domain_problem(domain) is not None


def test_idna_hosts_match_their_punycode() -> None:
    assert mode_from_origin("https://xn--bcher-kva.de", [{"domain": "bücher.de"}]) == "live"
