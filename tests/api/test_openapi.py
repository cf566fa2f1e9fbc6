"""The OpenAPI document at `GET /v0/openapi.json`, Swagger UI at `/_local/docs`, and a
schemathesis run against the local runtime (docs/openapi.md).

The fuzz run is bounded (fixed seed, deterministic generation, a few examples per
operation) so it fits CI: it must find no server error and no answer that breaks the
document (status code, content type, body schema).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from accesskit import api_key, child_tenant

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
# Examples per operation in the fuzzing phase: 129 operations x 1 is about 130 cases,
# about 35 s on a loaded 2-core machine (x 2 took 72 s). Counts: docs/openapi.md.
FUZZ_EXAMPLES = 1
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)
# The stateful phase (tests/api/schemathesis-stateful.toml): scenarios, each a chain of up
# to 6 steps along the document's links. Counts: docs/openapi.md.
STATEFUL_CONFIG = Path(__file__).with_name("schemathesis-stateful.toml")
STATEFUL_EXAMPLES = 20
# Distinct links that must reach a 2xx answer, and distinct producing operations among
# them (a run follows about a dozen links of 4-6 producers; the floor leaves room for the
# part of schemathesis' choice that does not follow the seed).
MIN_LINKS_FOLLOWED = 6
MIN_PRODUCERS_FOLLOWED = 3


def test_document_is_served_public_and_cacheable(api: Any) -> None:
    answer = api("GET", "/v0/openapi.json", headers={"Origin": "https://docs.example.org"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert answer.content == DOCUMENT.read_bytes()  # the committed document, as is
    document = answer.json()
    assert document["openapi"] == "3.1.0"
    assert set(document["components"]["securitySchemes"]) == {
        "apiKey",
        "accessToken",
        "firstFactorToken",
    }
    etag = answer.headers["etag"]
    again = api("GET", "/v0/openapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = api("GET", "/v0/openapi.json", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200
    refused = api("POST", "/v0/openapi.json", json={})
    assert refused.status_code == 405
    assert refused.json()["error"]["type"] == "bad_request_error"


def test_swagger_ui_is_served_locally(client: httpx.Client) -> None:
    page = client.get("/_local/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/_local/docs/swagger-ui-bundle.js" in page.text
    assert "//cdn" not in page.text and "https://" not in page.text  # nothing from a CDN
    init = client.get("/_local/docs/init.js")
    assert '"/v0/openapi.json"' in init.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        answer = client.get(f"/_local/docs/{asset}")
        assert answer.status_code == 200, asset
        assert len(answer.content) > 10_000, asset
    assert client.get("/_local/docs/..%2F..%2Fpyproject.toml").status_code == 404
    assert client.get("/_local/docs/nothing.js").status_code == 404
    assert client.post("/_local/docs").status_code == 405


def _schemathesis(
    client: httpx.Client,
    base_url: str,
    workspace: Any,
    tmp_path: Path,
    name: str,
    options: list[str],
    *,
    checks: str | None = CHECKS,
    config: Path | None = None,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run schemathesis against the runtime with an admin key of a tenant of its own (so
    deleting or rotating things touches nothing another test uses); every generated
    `{tenantId}` is that tenant (`schemathesis_hooks.py`). Returns the run and its JSON
    report; `options` picks the phase and its bounds."""
    owner = workspace.key("test", "admin")
    tenant = child_tenant(client, owner, name=name)
    key = api_key(client, owner, tenant)
    report = tmp_path / "schemathesis.json"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        *(["--config-file", str(config)] if config else []),
        "run",
        f"{base_url}/v0/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        *options,
        "--generation-deterministic",  # the same cases every run (a fixed seed)
        "--workers",
        "1",
        "--no-shrink",
        *(["--checks", checks] if checks else []),  # else the config file's
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(report),
        "--report-ndjson-path",
        str(tmp_path / "events.ndjson"),
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
        "PORTCULLIS_FUZZ_TENANT": tenant,
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        # In a scratch directory: schemathesis keeps a crash cache (`.schemathesis/`) in
        # its working directory and replays it first, which would make runs differ.
        command,
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        cwd=tmp_path,
    )
    assert report.exists(), run.stdout[-4000:] + run.stderr[-4000:]
    result: dict[str, Any] = json.loads(report.read_text())
    cases = result["test_cases"]
    failures = json.dumps(result["failures"] + result["errors"], indent=1)[:6000]
    summary = f"{cases} {result['operations']}\n{failures}\n{run.stdout[-3000:]}"
    assert run.returncode == 0, summary
    assert result["complete"] and result["failures"] == [] and result["errors"] == [], summary
    assert cases["with_failures"] == 0 and cases["errored"] == 0, summary
    return run, result


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    client: httpx.Client, base_url: str, workspace: Any, tmp_path: Path
) -> None:
    """Fuzz every operation, a fixed number of examples each."""
    options = ["--phases", "fuzzing", "--max-examples", str(FUZZ_EXAMPLES)]
    _, result = _schemathesis(client, base_url, workspace, tmp_path, "Fuzz", options)
    cases = result["test_cases"]
    assert result["operations"]["tested"] == result["operations"]["total"], result
    assert cases["generated"] >= result["operations"]["total"], result
    print(f"schemathesis: {cases['generated']} cases over {result['operations']['tested']} ops")


def _links_followed(events: Path) -> dict[str, int]:
    """Each link (`source -> [status] name -> target`) whose target answered 2xx when
    called with the values the link took from the source's answer, and how often."""
    followed: dict[str, int] = {}
    for line in events.read_text().splitlines():
        event = json.loads(line)
        recorder = event.get("ScenarioFinished", {}).get("recorder")
        for case_id, case in (recorder or {}).get("cases", {}).items():
            answer = recorder["interactions"].get(case_id, {}).get("response") or {}
            if case.get("is_transition_applied") and 200 <= answer.get("status_code", 0) < 300:
                link = case["transition"]["id"]
                followed[link] = followed.get(link, 0) + 1
    return followed


def test_schemathesis_stateful_follows_links_without_failure(
    client: httpx.Client, base_url: str, workspace: Any, tmp_path: Path
) -> None:
    """The stateful phase: scenarios of a few steps that create a resource (tenant, user,
    role, API key, import) and follow the document's links to read, change and delete
    that very resource (infra/openapi_links.py), with the fuzz checks plus
    `use_after_free` and `ensure_resource_availability`."""
    options = ["--phases", "stateful", "--max-examples", str(STATEFUL_EXAMPLES)]
    _, result = _schemathesis(
        client,
        base_url,
        workspace,
        tmp_path,
        "Stateful",
        options,
        checks=None,  # the config's: those above, `use_after_free`, `ensure_resource_availability`
        config=STATEFUL_CONFIG,
    )
    cases = result["test_cases"]
    followed = _links_followed(tmp_path / "events.ndjson")
    resources = {link.split(" -> ")[0] for link in followed}
    report = f"{cases['generated']} cases; links followed: {json.dumps(followed, indent=1)}"
    assert len(followed) >= MIN_LINKS_FOLLOWED, report
    assert len(resources) >= MIN_PRODUCERS_FOLLOWED, report
    print(f"schemathesis stateful: {report}")
