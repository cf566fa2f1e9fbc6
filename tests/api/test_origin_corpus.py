"""Confusable origins against the running service (issue 8, item 1).

For every origin of the corpus, sent as `Origin` and as `x-origin` to the requests that
email a link (link log-in, password reset), the service either refuses it (400 naming
`origin`, or test mode: the live-only tenant is then not found and nothing is sent) or
emails a link whose host Node's WHATWG `new URL()` reads as the live domain. In test
mode the returned link's origin must be the one a browser reads from the header; `/mode`
never answers live for a confusable origin, and CORS never echoes what it did not parse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from typing import Any

import pytest
from authkit import PASSWORD, new_tenant, outbox, unique_email

# `{d}` is the live domain. Each must be refused or read as (under) the live domain.
CORPUS = [
    "https://{d}",
    "https://APP.{d}:443",
    "https://app.{d}:8443",
    "https://evil.test\\@{d}",
    "https://evil.test\\@app.{d}",
    "https://evil.test@{d}",
    "https://evil.test:pw@{d}",
    "https://evil.test%5C@{d}",
    "https://evil.test%5c@{d}",
    "https://evil.test\t@{d}",
    "https://evil.te\tst\\@{d}",
    "https://{d}\t.evil.test",
    "https:evil.test\\@{d}",
    "https:/\\evil.test\\@{d}",
    "https:/\\evil.test",
    "https:evil.test",
    "https://{d}.",
    "https://{d}..",
    "https://{d}.evil.test",
    "https://evil.test#@{d}",
    "https://evil.test?@{d}",
    "https://evil.test/@{d}",
    "https://{d}/",
    "https://{d}:0",
    "https://{d}:99999",
    "https://evil.test\\\\@{d}",
    # Look-alikes: a Cyrillic "е" in the registrable part, as a browser would send it.
    "https://{lookalike}",
    "https://app.{lookalike}",
    "HTTPS://{D}",
]
# `x-origin` wins over `Origin` (one code path reads both): the whole corpus goes as
# `x-origin`, the issue's own cases also as `Origin`; the reset flow builds its link the
# same way as the login flow, so it gets the attack cases only.
ATTACKS = CORPUS[3:8] + CORPUS[12:15]


@pytest.fixture(scope="module")
def domain() -> str:
    return f"app-{uuid.uuid4().hex[:10]}.example.com"


@pytest.fixture(scope="module")
def origins(domain: str) -> list[str]:
    import idna

    label = domain.split(".")[0]
    lookalike = idna.encode(f"{label}.\u0435xample.com", uts46=True).decode()
    return [o.format(d=domain, D=domain.upper(), lookalike=lookalike) for o in CORPUS]


@pytest.fixture(scope="module")
def attacks(origins: list[str]) -> list[str]:
    return [origins[CORPUS.index(o)] for o in ATTACKS] + origins[:2]


@pytest.fixture(scope="module")
def live_tenant(base_url: str, workspace, domain: str) -> str:
    return new_tenant(
        base_url, workspace.key("live", "admin"), {"liveDomains": [{"domain": domain}]}
    )


@pytest.fixture(scope="module")
def test_tenant(base_url: str, workspace) -> str:
    return new_tenant(base_url, workspace.key("test", "admin"))


@pytest.fixture(scope="module")
def whatwg():
    """Read many URLs with Node's `new URL()` in one process: [{host, origin} | None]."""
    node = shutil.which("node")
    assert node, "node is required (on PATH in the dev set-up and CI)"

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


def _link_in(text: str) -> str:
    """The emailed link as sent, whitespace inside it included (a browser strips tabs)."""
    end = text.index("uuid=")
    start = max(text.rfind("http", 0, end), text.rfind("HTTP", 0, end))
    stop = end
    while stop < len(text) and not text[stop].isspace():
        stop += 1
    return text[start:stop]


def _refused_or_not_live(response) -> bool:
    """400 naming origin, or test mode (the live-only tenant does not exist there)."""
    if response.status_code == 400:
        return "origin" in response.json()["message"]
    return response.status_code == 404


def _is_live_host(host: str | None, domain: str) -> bool:
    return host is not None and (host == domain or host.endswith("." + domain))


def _check_links(client, whatwg, domain, sent: list[tuple[str, str, Any]]) -> None:
    """`sent`: (origin, header, response or emailed link text)."""
    links = [(o, h, r) for o, h, r in sent if isinstance(r, str)]
    read = whatwg([_link_in(text) for _, _, text in links])
    for (origin, header, text), parsed in zip(links, read, strict=True):
        host = parsed["host"] if parsed else None
        assert _is_live_host(host, domain), (origin, header, _link_in(text), host)
        assert parsed["origin"].startswith("https://"), (origin, header, parsed)


def test_login_links_go_only_to_the_live_domain(
    client, live_tenant, origins, attacks, domain, whatwg
):
    sent: list[tuple[str, str, Any]] = []
    cases = [(o, "x-origin") for o in origins] + [(o, "Origin") for o in attacks]
    for origin, header in cases:
        email = unique_email("corpus")
        response = client.post(
            f"/v0/tenants/{live_tenant}/auth/link", json={"email": email}, headers={header: origin}
        )
        if response.status_code == 200:
            messages = outbox(client, email)
            assert len(messages) == 1, (origin, header, messages)
            sent.append((origin, header, messages[0]["text"]))
        else:
            assert _refused_or_not_live(response), (origin, header, response.text)
    assert len(sent) >= 4  # the genuine live origins did send
    _check_links(client, whatwg, domain, sent)


def test_reset_links_go_only_to_the_live_domain(client, live_tenant, attacks, domain, whatwg):
    email = unique_email("corpus-reset")
    created = client.post(
        f"/v0/tenants/{live_tenant}/auth/create",
        json={"email": email, "password": PASSWORD, "options": {"noSignupEmail": True}},
        headers={"Origin": f"https://{domain}"},
    )
    assert created.status_code == 200, created.text
    sent: list[tuple[str, str, Any]] = []
    for origin in attacks:
        response = client.post(
            f"/v0/tenants/{live_tenant}/auth/reset/link",
            json={"email": email},
            headers={"Origin": origin},
        )
        if response.status_code == 200:
            sent.append((origin, "Origin", None))
        else:
            assert _refused_or_not_live(response), (origin, response.text)
    messages = outbox(client, email)
    assert len(messages) == len(sent) >= 2
    sent = [(o, h, m["text"]) for (o, h, _), m in zip(sent, messages, strict=True)]
    _check_links(client, whatwg, domain, sent)


def test_mode_is_never_live_for_a_confusable_origin(client, live_tenant, origins, domain, whatwg):
    answers = []
    for origin in origins:
        response = client.get(f"/v0/tenants/{live_tenant}/mode", headers={"x-origin": origin})
        assert response.status_code in (200, 404), (origin, response.text)
        if response.status_code == 200:
            assert response.json()["mode"] == "live"
            answers.append(origin)
    for origin, parsed in zip(answers, whatwg(answers), strict=True):
        assert parsed and parsed["origin"].startswith("https://"), origin
        assert _is_live_host(parsed["host"], domain), (origin, parsed)


def test_test_mode_links_point_where_a_browser_reads_the_origin(
    client, test_tenant, domain, whatwg
) -> None:
    corpus = [
        o.format(d="localhost:3000", D="LOCALHOST:3000", lookalike="x.test")
        for o in [
            "http://{d}",
            "HTTP://{D}",
            "http://evil.test\\@{d}",
            "http://evil.test@{d}",
            "http://evil.test%5C@{d}",
            "http://evil.test\t@{d}",
            "http:evil.test\\@{d}",
            "http:/\\evil.test\\@{d}",
            "http://{d}/",
        ]
    ]
    results = []
    for origin in corpus:
        response = client.post(
            f"/v0/tenants/{test_tenant}/auth/link",
            json={"email": unique_email("corpus-test")},
            headers={"x-origin": origin},
        )
        if response.status_code == 200:
            results.append((origin, response.json()["result"]["link"]))
        else:
            assert response.status_code == 400 and "origin" in response.json()["message"]
    assert results, "the plain origins are accepted"
    read = whatwg([o for o, _ in results] + [link for _, link in results])
    for index, (origin, link) in enumerate(results):
        expected, got = read[index], read[len(results) + index]
        assert expected and got, (origin, link)
        assert got["origin"] == expected["origin"], (origin, link)


def test_cors_echoes_only_what_it_parsed(client, workspace, origins, whatwg) -> None:
    echoed = []
    for origin in origins:
        response = client.get(f"/v0/tenants/{workspace.tenant_id}/mode", headers={"Origin": origin})
        allowed = response.headers.get("access-control-allow-origin")
        if allowed is not None and allowed != "*":
            echoed.append((origin, allowed))
    read = whatwg([o for o, _ in echoed])
    for (origin, allowed), parsed in zip(echoed, read, strict=True):
        assert parsed is not None and allowed == parsed["origin"], (origin, allowed, parsed)


def test_every_sign_in_refuses_an_unreadable_origin(client, test_tenant, domain) -> None:
    """Not only the sending endpoints: password log-in and sign-up name `origin` too."""
    bad = {"x-origin": f"https://evil.test\\@{domain}"}
    for path, body in [
        ("auth/basic", {"emailOrUsername": unique_email(), "password": PASSWORD}),
        ("auth/create", {"email": unique_email(), "password": PASSWORD}),
    ]:
        response = client.post(f"/v0/tenants/{test_tenant}/{path}", json=body, headers=bad)
        assert response.status_code == 400, response.text
        assert response.json()["message"].startswith('"origin"'), response.text


@pytest.mark.parametrize("origin", ["null", "capacitor://localhost"])
def test_pages_without_a_web_origin_use_test_mode(client, test_tenant, origin) -> None:
    response = client.post(
        f"/v0/tenants/{test_tenant}/auth/link",
        json={"email": unique_email("no-web-origin")},
        headers={"Origin": origin},
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["link"].startswith("http://localhost:3000/")
    assert response.headers.get("access-control-allow-origin") in ("*", origin)


def test_token_verify_links_in_live_mode_go_to_a_live_domain(
    client, live_tenant, domain, whatwg
) -> None:
    """The token decides the mode; the origin may only pick which live host, if it is one."""
    email = unique_email("corpus-verify")
    created = client.post(
        f"/v0/tenants/{live_tenant}/auth/create",
        json={"email": email, "password": PASSWORD, "options": {"noSignupEmail": True}},
        headers={"Origin": f"https://{domain}"},
    )
    assert created.status_code == 200, created.text
    access = created.json()["tokens"]["access"]["value"]
    auth = {"Authorization": f"Bearer {access}"}
    confusable = client.post(
        f"/v0/tenants/{live_tenant}/auth/verify/email",
        json={},
        headers={**auth, "x-origin": f"https://evil.test\\@{domain}"},
    )
    assert confusable.status_code == 400 and "origin" in confusable.json()["message"]
    for origin in ["https://evil.test", "http://localhost:3000", f"https://app.{domain}"]:
        response = client.post(
            f"/v0/tenants/{live_tenant}/auth/verify/email",
            json={},
            headers={**auth, "x-origin": origin},
        )
        assert response.status_code == 200, (origin, response.text)
    messages = outbox(client, email)
    assert len(messages) == 3
    read = whatwg([_link_in(m["text"]) for m in messages])
    assert [r["host"] for r in read] == [domain, domain, f"app.{domain}"]
