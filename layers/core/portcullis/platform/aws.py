"""boto3 clients, created once per process (a Lambda instance reuses them across requests)."""

from __future__ import annotations

import os
from functools import cache, lru_cache
from typing import Any

from portcullis.platform import config


@cache
def client(service: str) -> Any:
    import boto3  # imported lazily: functions that never call AWS directly skip the cost

    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    return boto3.session.Session().client(
        service, region_name=config.region(), endpoint_url=endpoint
    )


@lru_cache(maxsize=32)
def regional_client(
    service: str, region: str, *, endpoint: str | None = None, timeout_seconds: float = 5.0
) -> Any:
    """A client of `service` in `region` (not the deployment's), for a tenant's own AWS
    resource such as the Cognito user pool of a passthrough migration: one attempt, no
    retries, `timeout_seconds` to connect and to read. The endpoint is `endpoint` when
    given, else the deployment's override (moto locally), else AWS's regional one."""
    import boto3
    from botocore.config import Config

    override = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}")
    return boto3.session.Session().client(
        service,
        region_name=region,
        endpoint_url=endpoint or override or os.environ.get("AWS_ENDPOINT_URL"),
        config=Config(
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


def failure(error: BaseException) -> tuple[str, str] | None:
    """(code, message) of a failed AWS call: the service's error code for an answered
    call, `("", name)` when no answer came (connection, timeout); None when `error` is
    not an AWS failure at all (a bug, to be raised)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return str(details.get("Code") or ""), str(details.get("Message") or "")
    if isinstance(error, BotoCoreError):
        return "", type(error).__name__
    return None
