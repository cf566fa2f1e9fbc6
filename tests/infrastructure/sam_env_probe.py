"""Run by the SAM CLI's own interpreter (.venv-sam): the environment `sam local` would give
each function of a template with an `--env-vars` file, computed by the SAM CLI's own code
(the providers and `LocalLambdaRunner._make_env_vars` that `sam local start-api` uses) but
without starting a container, so it needs no Docker.

Usage: python sam_env_probe.py TEMPLATE ENV_FILE  ->  JSON {FunctionLogicalId: {VAR: value}}
"""

from __future__ import annotations

import json
import sys

from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main(template: str, env_file: str) -> None:
    with open(env_file, encoding="utf-8") as handle:
        values = json.load(handle)
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    provider = SamFunctionProvider(stacks)
    # No container runtime: `_make_env_vars` only reads the provider and the file.
    runner = LocalLambdaRunner(
        None,  # type: ignore[arg-type]
        provider,
        ".",
        real_path=".",
        aws_region="us-east-1",
        env_vars_values=values,
    )
    result = {f.name: runner._make_env_vars(f).resolve() for f in provider.get_all()}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
