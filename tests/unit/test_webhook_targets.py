"""Webhook targets (`portcullis.webhooks.targets`): the SSRF rules of concepts §5.4.

`socket.getaddrinfo` is replaced here (and only here) so a host name can "resolve" to
any address without a DNS server; IP literals never reach it. Every accepted URL is also
read by Node's WHATWG `new URL()`: the host we connect to is the host a browser reads.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import subprocess
import threading
from typing import Any

import pytest

from portcullis.platform.errors import BadRequest
from portcullis.tenancy.settings import TenantSettings
from portcullis.webhooks import targets
from portcullis.webhooks.targets import TargetRefused, check_url, resolve

FIELD = "userCreatedWebhookUrl"


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A fake resolver: host name -> addresses; an unknown name fails like a real lookup."""
    table: dict[str, list[str]] = {}
    asked: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        result = []
        for address in table[host]:
            if ":" in address:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("WEBHOOKS_ALLOW_LOCALHOST", raising=False)
    table["__asked__"] = asked  # the lookups made, for tests that must see none
    return table


# ------------------------------------------------------------------------ URL shape

ACCEPTED = {
    "https://hooks.example.com": "https://hooks.example.com/",
    "https://hooks.example.com/": "https://hooks.example.com/",
    "HTTPS://Hooks.Example.COM:443/a/b?x=1&y=%20": "https://hooks.example.com/a/b?x=1&y=%20",
    "https://hooks.example.com:8443/in": "https://hooks.example.com:8443/in",
    "https://hooks.example.com?token=abc": "https://hooks.example.com/?token=abc",
    "https://bücher.de/hook": "https://xn--bcher-kva.de/hook",
    "https://93.184.215.14/hook": "https://93.184.215.14/hook",
    "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/": "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
    "https://hooks.example.com/@evil.test": "https://hooks.example.com/@evil.test",
}

REFUSED_LIVE = [
    "http://hooks.example.com/",  # live mode: https only
    "https://user:pass@hooks.example.com/",  # userinfo
    "https://hooks.example.com@evil.test/",  # userinfo trick: the host is evil.test
    "https://evil.test\\@hooks.example.com/",  # backslash: a browser reads evil.test
    "https://hooks.example.com#@evil.test",  # fragment
    "https://2130706433/",  # decimal 127.0.0.1
    "https://0x7f000001/",  # hex
    "https://0177.0.0.1/",  # octal
    "https://127.1/",  # short form
    "https://0x7f.0.0.1/",
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://[fd00:ec2::254]/",  # cloud metadata (IPv6)
    "https://10.0.0.1/",
    "https://172.16.0.1/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",  # CGNAT
    "https://0.0.0.0/",
    "https://[::]/",
    "https://224.0.0.1/",  # multicast
    "https://240.0.0.1/",  # reserved
    "https://[fe80::1]/",  # link-local
    "https://[fc00::1]/",  # unique local
    "https://[64:ff9b::7f00:1]/",  # NAT64 form of 127.0.0.1
    "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://localhost/",
    "https://api.localhost/",
    "https://hooks.example.com/a b",
    "https://hooks.example.com/\ta",
    "https://hooks.example.com/%zz",
    "https://hooks.example.com/ü",
    "https://%68ooks.example.com/",
    "hooks.example.com/path",
    "ftp://hooks.example.com/",
    "javascript://hooks.example.com/",
    "https:///path",
    "https://hooks.example.com./",
    "https://" + "a" * 2050 + ".com/",
    "",
]


@pytest.mark.parametrize(("value", "normalised"), sorted(ACCEPTED.items()))
def test_accepted_urls_are_normalised(value: str, normalised: str) -> None:
    assert check_url(value, "live", field=FIELD) == normalised
    assert check_url(value, "test", field=FIELD) == normalised


@pytest.mark.parametrize("value", REFUSED_LIVE)
def test_refused_urls_name_the_field(value: str) -> None:
    with pytest.raises(BadRequest) as refused:
        check_url(value, "live", field=FIELD)
    assert refused.value.message.startswith(f'"{FIELD}" ')


def test_test_mode_allows_http_but_not_private_addresses(dns: dict[str, Any]) -> None:
    assert check_url("http://hooks.example.com/in", "test", field=FIELD) == (
        "http://hooks.example.com/in"
    )
    for value in ("http://10.0.0.1/", "http://169.254.169.254/", "http://127.0.0.1:9000/"):
        with pytest.raises(BadRequest):
            check_url(value, "test", field=FIELD)


def test_loopback_only_in_test_mode_and_only_when_the_deployment_opts_in(
    dns: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = ["http://127.0.0.1:9000/hook", "http://localhost:9000/hook", "http://[::1]:9000/"]
    for url in urls:
        with pytest.raises(BadRequest):
            check_url(url, "test", field=FIELD)
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCALHOST", "true")
    for url in urls:
        assert check_url(url, "test", field=FIELD)
        with pytest.raises(BadRequest):
            check_url(url.replace("http:", "https:"), "live", field=FIELD)
    dns["localhost"] = ["127.0.0.1", "::1"]
    assert resolve("http://localhost:9000/hook", "test") == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    with pytest.raises(TargetRefused):
        resolve("https://localhost:9000/hook", "live")
    # The opt-in is loopback only: other private addresses stay refused.
    dns["printer.lan"] = ["192.168.1.50"]
    with pytest.raises(TargetRefused):
        resolve("http://printer.lan/", "test")


# ------------------------------------------------------------------ after DNS


def test_a_public_name_resolves(dns: dict[str, Any]) -> None:
    dns["hooks.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    found = resolve("https://hooks.example.com/in", "live")
    assert [str(a) for a in found] == ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.1.2.3"],
        ["127.0.0.1"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["::ffff:10.0.0.1"],
        ["fd00:ec2::254"],
        ["100.100.100.200"],
        ["0.0.0.0"],
        ["fe80::1"],
        # ANY non-public address refuses the target, even next to a public one.
        ["93.184.215.14", "192.168.0.10"],
        ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::1"],
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused(
    dns: dict[str, Any], addresses: list[str]
) -> None:
    dns["internal.example.com"] = addresses
    with pytest.raises(TargetRefused):
        resolve("https://internal.example.com/hook", "live")
    with pytest.raises(BadRequest) as refused:
        targets.check_reachable("https://internal.example.com/hook", "live", field=FIELD)
    assert refused.value.message.startswith(f'"{FIELD}" ')


def test_ip_literals_are_checked_without_dns(dns: dict[str, Any]) -> None:
    assert [str(a) for a in resolve("https://93.184.215.14/", "live")] == ["93.184.215.14"]
    for url in ("http://169.254.169.254/latest/", "http://127.0.0.1/", "http://[::1]/"):
        with pytest.raises(TargetRefused):
            resolve(url, "live")
        with pytest.raises(TargetRefused):
            resolve(url, "test")
    with pytest.raises(TargetRefused):
        resolve("http://2130706433/", "test")
    with pytest.raises(TargetRefused):
        resolve("https://user@93.184.215.14/", "live")
    assert dns["__asked__"] == []


def test_an_unknown_or_slow_name_is_refused(
    dns: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TargetRefused, match="does not resolve"):
        resolve("https://nowhere.example.com/", "live")
    release = threading.Event()

    def stuck(*args: Any, **kwargs: Any) -> list[Any]:
        release.wait(5)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    try:
        with pytest.raises(TargetRefused, match="timed out"):
            resolve("https://slow.example.com/", "live", timeout=0.05)
    finally:
        release.set()


def test_settings_change_checks_every_webhook_url(dns: dict[str, Any]) -> None:
    dns["hooks.example.com"] = ["93.184.215.14"]
    targets.check_settings_change(
        "live",
        {"userCreatedWebhookUrl": "https://hooks.example.com/", "tenantDeletedWebhookUrl": None},
    )
    for name in targets.URL_SETTINGS:
        with pytest.raises(BadRequest) as refused:
            targets.check_settings_change("live", {name: "http://hooks.example.com/"})
        assert refused.value.message.startswith(f'"{name}" ')


def test_url_for_names_the_setting_of_each_event() -> None:
    settings = TenantSettings.model_validate(
        {
            "userCreatedWebhookUrl": "https://a.example.com/u",
            "tenantDeletedWebhookUrl": "https://a.example.com/t",
            "sessionCreatedWebhookUrl": "https://a.example.com/s",
            "linkEmailWebhookUrl": "https://a.example.com/l",
            "verificationCodeSmsWebhookUrl": "https://a.example.com/c",
        }
    )
    assert targets.url_for(settings, "user", "create") == "https://a.example.com/u"
    assert targets.url_for(settings, "user", "update") is None
    assert targets.url_for(settings, "tenant", "delete") == "https://a.example.com/t"
    assert targets.url_for(settings, "session", "create") == "https://a.example.com/s"
    assert targets.url_for(settings, "session", "end") is None
    assert targets.url_for(settings, "message", "send") is None
    assert targets.message_url_for(settings, "email", "login") == "https://a.example.com/l"
    assert targets.message_url_for(settings, "email", "verificationCode") is None
    assert targets.message_url_for(settings, "sms", "verificationCode") == "https://a.example.com/c"


def test_settings_store_the_normalised_url_and_refuse_a_bad_one() -> None:
    settings = TenantSettings.model_validate({"userUpdatedWebhookUrl": "HTTPS://A.Example.com"})
    assert settings.userUpdatedWebhookUrl == "https://a.example.com/"
    with pytest.raises(ValueError, match="userUpdatedWebhookUrl"):
        TenantSettings.model_validate({"userUpdatedWebhookUrl": "https://u@a.example.com/"})


def test_accepted_urls_read_the_same_in_a_whatwg_parser() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (it is on PATH in the dev set-up and in CI)")
    values = list(ACCEPTED)
    script = (
        "const vs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(vs.map(v => { const u = new URL(v);"
        " return {host: u.hostname, href: u.href.split('#')[0]}; })));"
    )
    done = subprocess.run(
        [node, "-e", script], input=json.dumps(values), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    for value, read in zip(values, json.loads(done.stdout), strict=True):
        ours = check_url(value, "live", field=FIELD)
        assert read["href"] == ours, value
        assert read["host"].strip("[]") == targets.parse(value).host, value


def test_configuration_does_not_tell_a_private_name_from_an_unknown_one(
    dns: dict[str, Any],
) -> None:
    """Otherwise a tenant admin could map the deployment's internal DNS through the 400."""
    dns["db.internal.example.com"] = ["10.20.30.40"]
    messages = set()
    for host in ("db.internal.example.com", "nowhere.example.com"):
        with pytest.raises(BadRequest) as refused:
            targets.check_reachable(f"https://{host}/", "live", field=FIELD)
        messages.add(refused.value.message)
        assert "10.20.30.40" not in refused.value.message
    assert len(messages) == 1
