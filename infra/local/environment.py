"""Changes to `os.environ` that the runtime makes, and takes back on stop.

The functions read their configuration from the process environment (as in Lambda) and
boto3 finds moto through `AWS_ENDPOINT_URL`, so the runtime must set both for the whole
process. Restoring the previous values on stop keeps a test process that started a
runtime from pointing its later AWS calls at a moto that is gone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from infra.local.template import ACCOUNT_ID

_MISSING = object()


class ProcessEnvironment:
    """Records the original value of every variable it touches so `restore` is exact."""

    def __init__(self) -> None:
        self._original: dict[str, object] = {}

    def set(self, name: str, value: str) -> None:
        self._remember(name)
        os.environ[name] = value

    def update(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            self.set(name, value)

    def unset(self, name: str) -> None:
        if name in os.environ:
            self._remember(name)
            del os.environ[name]

    def restore(self) -> None:
        for name, value in self._original.items():
            if value is _MISSING:
                os.environ.pop(name, None)
            else:
                os.environ[name] = str(value)
        self._original.clear()

    def _remember(self, name: str) -> None:
        if name not in self._original:
            self._original[name] = os.environ.get(name, _MISSING)


def configured_region() -> str:
    """The region the user chose, if any; moto and the functions must agree on it."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def point_at_moto(env: ProcessEnvironment, endpoint: str, region: str) -> None:
    """Make every boto3/botocore client created in this process talk to the local moto.

    Profiles, session tokens and per-service endpoint overrides are removed because any of
    them could send a call to real AWS (or fail looking up a profile) instead.
    """
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_"):
            env.unset(name)
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ):
        env.unset(name)
    # moto reads this on every request, before the access key, to choose the account.
    env.set("MOTO_ACCOUNT_ID", ACCOUNT_ID)
    env.set("AWS_ENDPOINT_URL", endpoint)
    env.set("AWS_ACCESS_KEY_ID", "testing")
    env.set("AWS_SECRET_ACCESS_KEY", "testing")
    env.set("AWS_DEFAULT_REGION", region)
    env.set("AWS_REGION", region)
    env.set("AWS_EC2_METADATA_DISABLED", "true")
