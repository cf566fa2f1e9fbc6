"""boto3 clients, created once per process (a Lambda instance reuses them across requests)."""

from __future__ import annotations

import os
from functools import cache
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
