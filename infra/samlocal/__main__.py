"""`python -m infra.samlocal` (`make sam-local`): the API under `sam local start-api`.

1. Start the local runtime (`infra.local.runtime.LocalRuntime`, as `make dev` does) with
   its moto server on an address containers can reach. It provisions the template's
   resources, creates (or reloads) the workspace, and keeps doing what `sam local` cannot:
   draining the outbox, routing bus events, polling queues (those consumers run in this
   process, not in containers) and listing sent messages at `/_local/outbox` on its own
   port.
2. Write the `--env-vars` file (`infra.samlocal.envvars`).
3. `sam build` (no Docker needed), then `sam local start-api` on the built template with
   that file, until Ctrl-C; then stop the runtime, which saves the state.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from infra.local.runtime import DEFAULT_TEMPLATE, REPO_ROOT, LocalRuntime, start_or_explain
from infra.samlocal.envvars import (
    CONTAINER_HOST,
    MissingValue,
    container_endpoint,
    function_environments,
    write_env_file,
)

ENV_FILE_NAME = "sam-env.json"
DEFAULT_SAM = REPO_ROOT / ".venv-sam" / "bin" / "sam"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.samlocal",
        description="Run the API under `sam local start-api` (needs Docker), AWS in moto.",
    )
    parser.add_argument("--port", type=int, default=3000, help="sam local's API port")
    parser.add_argument(
        "--runtime-port",
        type=int,
        default=3001,
        help="the local runtime's own port (/_local/outbox, /_local/events; 0 picks one)",
    )
    parser.add_argument(
        "--moto-host",
        default="0.0.0.0",
        help="where moto listens: containers reach it through the Docker host gateway, so "
        "loopback is not enough on Linux (use the docker0 address to stay off the LAN)",
    )
    parser.add_argument("--moto-port", type=int, default=5005, help="moto's port (0 picks one)")
    parser.add_argument(
        "--container-host", default=CONTAINER_HOST, help="the host's name inside a container"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(".portcullis-sam"), help="where state is kept"
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="SAM template")
    parser.add_argument("--env-file", type=Path, help="env-vars file (default: in --data-dir)")
    parser.add_argument("--sam", default=str(DEFAULT_SAM), help="the SAM CLI executable")
    parser.add_argument("--no-build", action="store_true", help="reuse the last `sam build`")
    parser.add_argument("--no-bootstrap", action="store_true", help="do not create a workspace")
    parser.add_argument(
        "--env-only",
        action="store_true",
        help="write the env-vars file and exit (no Docker, no SAM CLI needed)",
    )
    parser.add_argument(
        "sam_args", nargs=argparse.REMAINDER, help="after `--`: more `sam local start-api` options"
    )
    return parser.parse_args(argv)


def sam_commands(
    args: argparse.Namespace, env_file: Path, region: str
) -> tuple[list[str], list[str]]:
    """(`sam build`, `sam local start-api`) as argument lists. Warm containers (made on
    first use, then reused) keep a request from paying a container start each time."""
    template = args.template.resolve()
    built = template.parent / ".aws-sam" / "build" / "template.yaml"
    build = [args.sam, "build", "--template", str(template)]
    extra = [a for a in args.sam_args if a != "--"]
    start = [
        args.sam,
        "local",
        "start-api",
        "--template",
        str(built),
        "--env-vars",
        str(env_file),
        "--add-host",
        f"{args.container_host}:host-gateway",
        "--port",
        str(args.port),
        "--region",
        region,
        "--warm-containers",
        "LAZY",
        *extra,
    ]
    return build, start


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir: Path = args.data_dir.resolve()
    env_file: Path = (args.env_file or data_dir / ENV_FILE_NAME).resolve()
    if not args.env_only and shutil.which(args.sam) is None:
        print(f"the SAM CLI is not at {args.sam} (run `make sam-venv`)", file=sys.stderr)
        return 1

    runtime = LocalRuntime(
        template_path=args.template,
        data_dir=data_dir,
        port=args.runtime_port,
        bootstrap=not args.no_bootstrap,
        echo=not args.env_only,
        access_log=False,
        moto_host=args.moto_host,
        moto_port=args.moto_port,
    )
    if not start_or_explain(runtime, "ports in use?"):
        return 1
    try:
        aws_endpoint = container_endpoint(runtime.moto_port_in_use, args.container_host)
        try:
            environments = function_environments(
                runtime.template,
                runtime.resources,
                host_endpoint=runtime.moto_endpoint,
                aws_endpoint=aws_endpoint,
                api_url=f"http://127.0.0.1:{args.port}",
            )
        except MissingValue as error:
            print(f"cannot write {env_file}: {error}", file=sys.stderr)
            return 1
        write_env_file(env_file, environments)
        if args.moto_host in ("0.0.0.0", "::"):
            print(
                f"note: moto (no authentication) listens on all interfaces, port "
                f"{runtime.moto_port_in_use}; --moto-host <docker0 address> keeps it off "
                "other networks (docs/local.md)",
                file=sys.stderr,
            )
        print(f"env-vars file: {env_file} (moto for containers: {aws_endpoint})")
        if args.env_only:
            return 0
        return _run_sam(args, env_file, runtime.region)
    finally:
        runtime.stop()


def _run_sam(args: argparse.Namespace, env_file: Path, region: str) -> int:
    """Build, then serve until Ctrl-C; the SAM CLI inherits the runtime's environment,
    which has no AWS profile or real credentials left (`point_at_moto`)."""
    build, start = sam_commands(args, env_file, region)
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    cwd = args.template.resolve().parent
    if not args.no_build:
        built = subprocess.run(build, cwd=cwd, env=env, check=False)  # noqa: S603 - the SAM CLI
        if built.returncode != 0:
            return built.returncode
    print(f"sam local start-api on http://127.0.0.1:{args.port} (Ctrl-C stops both)")
    process = subprocess.Popen(start, cwd=cwd, env=env)  # noqa: S603 - the SAM CLI

    def forward(signum: int, frame: FrameType | None) -> None:
        process.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return process.wait()


if __name__ == "__main__":
    sys.exit(main())
