"""Settings read from the environment.

Read lazily (functions, not module constants) so tests and the local runtime can set the
environment after import, and so a Lambda cold start does no work it does not need.
"""

from __future__ import annotations

import os


def table_name() -> str:
    return os.environ.get("TABLE_NAME", "portcullis")


def kms_key_id() -> str:
    return os.environ.get("KMS_KEY_ID", "alias/portcullis")


def event_bus_name() -> str:
    return os.environ.get("EVENT_BUS_NAME", "portcullis")


def sender_email() -> str:
    return os.environ.get("SENDER_EMAIL", "no-reply@example.com")


def ses_configuration_set() -> str | None:
    """The SES configuration set every email is sent with (its bounce and complaint
    events mark the address: docs/emails.md); unset = none (e.g. a bare test process)."""
    return os.environ.get("SES_CONFIGURATION_SET") or None


def sender_domains() -> list[str]:
    """Email domains every workspace of the deployment may send from (`SenderDomains`
    parameter, comma-separated); empty = only the domains allowed per workspace."""
    raw = os.environ.get("SENDER_DOMAINS", "")
    return [d.strip() for d in raw.split(",") if d.strip()]


def stage() -> str:
    return os.environ.get("STAGE", "local")


def issuer() -> str:
    """The `iss` claim: the public base URL of the API (concepts.md §2.3)."""
    return os.environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1:3000"


def public_url(path: str) -> str:
    """The public URL of one of our routes (`path` starts with `/`): URLs given to
    identity providers and service providers are built on the issuer, without a
    doubled slash whether or not PUBLIC_BASE_URL ends with one."""
    return f"{issuer().rstrip('/')}{path}"


def allowed_origins() -> list[str]:
    """Origins that may call the API from a browser; `*` echoes any origin (api-client §0.5)."""
    raw = os.environ.get("ALLOWED_ORIGINS", "*")
    return [o.strip() for o in raw.split(",") if o.strip()]


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def search_scan_limit() -> int:
    """Most users one non-exact search reads (stack parameter SearchScanLimit; docs/search.md)."""
    raw = os.environ.get("SEARCH_SCAN_LIMIT", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 100_000 else 5000


def webhooks_allow_localhost() -> bool:
    """Whether test-mode webhooks may target loopback (`WEBHOOKS_ALLOW_LOCALHOST=true`): the
    local runtime opts in so a developer's receiver on 127.0.0.1 works; a deployment in
    AWS does not (docs/webhooks.md "Target URLs"). Live mode never allows it."""
    return os.environ.get("WEBHOOKS_ALLOW_LOCALHOST", "").strip().lower() == "true"
