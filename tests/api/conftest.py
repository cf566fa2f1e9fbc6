"""API tests speak HTTP to the local runtime; the fixtures live in `infra.local.testing`.

`runtime` (session): the service on a free port with fresh data, one per xdist worker.
`base_url`, `workspace` (`.tenant_id`, `.keys[mode][type]`), `client` (httpx, 30 s
timeout, fresh per test) and `api(method, path, key=None, json=None, headers=None)`.
"""

from infra.local.testing import api, base_url, client, runtime, workspace

__all__ = ["api", "base_url", "client", "runtime", "workspace"]
