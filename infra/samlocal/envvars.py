"""The `sam local --env-vars` file: every function's variables, resolved to local values.

`sam local` resolves a function's environment from the template itself, where `!Ref Table`
means nothing locally, and only lets the file override variables the template declares
for that function. So the file names every function and every variable it declares, with
the values the local runtime resolved for `make dev` (`infra.local.aws.LocalResources`),
except where a container sees the world differently: moto is reached through the Docker
host gateway instead of loopback, and the public base URL is `sam local`'s own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from infra.local.aws import LocalResources
from infra.local.cfn import NO_VALUE, Unresolvable
from infra.local.template import SamTemplate

#: How a container names the host. Docker Desktop defines it; on Linux `sam local` is given
#: `--add-host host.docker.internal:host-gateway` (Docker 20.10+) so it means the same.
CONTAINER_HOST = "host.docker.internal"
#: The variable that sends every boto3/pynamodb client of a function to moto. template.yaml
#: declares it as `!Ref AWS::NoValue`: CloudFormation drops it, `sam local` keeps it (empty)
#: and so lets this file set it.
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"


class MissingValue(Exception):
    """A function's variable has no local value; `sam local` would run it misconfigured."""


def container_endpoint(moto_port: int, host: str = CONTAINER_HOST) -> str:
    """moto's URL as a function's container reaches it."""
    return f"http://{host}:{moto_port}"


def function_environments(
    template: SamTemplate,
    resources: LocalResources,
    *,
    host_endpoint: str,
    aws_endpoint: str,
    api_url: str,
) -> dict[str, dict[str, str]]:
    """`{FunctionLogicalId: {VARIABLE: value}}` for every function of the template.

    `host_endpoint` is moto as this host reaches it: local values that contain it (queue
    URLs) are rewritten to `aws_endpoint`, the same moto as a container reaches it.
    Raises `MissingValue` naming the function and variable that cannot be resolved,
    instead of handing a function an empty value it would fail on later.
    """
    intrinsics = resources.intrinsics(template)
    result: dict[str, dict[str, str]] = {}
    for logical_id, spec in sorted(template.functions.items()):
        values: dict[str, str] = {}
        for name, raw in spec.environment.items():
            try:
                resolved = intrinsics.resolve(raw)
                if resolved is NO_VALUE and name != ENDPOINT_VARIABLE:
                    continue  # CloudFormation drops it; so does `sam local`
                value = "" if resolved is NO_VALUE else intrinsics.resolve_string(raw)
            except Unresolvable as error:
                raise MissingValue(f"{logical_id}: {name} has no local value ({error})") from error
            values[name] = value.replace(host_endpoint, aws_endpoint)
        values.update(_container_overrides(values, aws_endpoint, api_url))
        result[logical_id] = values
    return result


def _container_overrides(
    declared: Mapping[str, str], aws_endpoint: str, api_url: str
) -> dict[str, str]:
    """What differs from `make dev`'s values inside a container (declared names only:
    `sam local` ignores the rest)."""
    overrides = {ENDPOINT_VARIABLE: aws_endpoint}
    if "PUBLIC_BASE_URL" in declared:
        overrides["PUBLIC_BASE_URL"] = api_url
    if "STAGE" in declared:
        overrides["STAGE"] = "local"
    return overrides


def write_env_file(path: Path, environments: Mapping[str, Mapping[str, str]]) -> None:
    """Write the file (0600: it holds nothing secret today, but it is per developer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(environments, indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
