"""`python -m infra.local`: run the service locally until Ctrl-C or SIGTERM (then save, exit 0)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from infra.local.demo import DEMO_FILE, DemoServer
from infra.local.persistence import write_json
from infra.local.runtime import (
    DEFAULT_TEMPLATE,
    SAVE_INTERVAL_SECONDS,
    LocalRuntime,
    start_or_explain,
)


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local",
        description="Run Portcullis locally: template.yaml's API with AWS emulated by moto.",
    )
    parser.add_argument("--port", type=int, default=3000, help="HTTP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(".portcullis"), help="where state is kept"
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="SAM template")
    parser.add_argument(
        "--parameter",
        type=_parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a template parameter (repeatable)",
    )
    parser.add_argument("--no-bootstrap", action="store_true", help="do not create a workspace")
    parser.add_argument("--quiet", action="store_true", help="no access log")
    parser.add_argument(
        "--save-interval",
        type=float,
        default=SAVE_INTERVAL_SECONDS,
        metavar="SECONDS",
        help="save the tables this often while running; 0: only at start and stop",
    )
    parser.add_argument(
        "--demo-port",
        type=int,
        default=5173,
        help="port of the example app with Userfront's toolkit forms (0: a free one)",
    )
    parser.add_argument("--no-demo", action="store_true", help="do not serve the example app")
    parser.add_argument(
        "--oidc-port",
        type=int,
        default=-1,
        help="start a local OIDC provider for SSO on this port (docs/sso.md; `make dev`: 9400)",
    )
    return parser.parse_args(argv)


def start_demo(runtime: LocalRuntime, port: int, data_dir: Path) -> DemoServer | None:
    """The example app (infra/local/demo.py) for the workspace tenant; its URL is printed
    and saved in `demo.json`. None without a workspace or when the port is taken."""
    if runtime.workspace is None:
        return None
    try:
        demo = DemoServer(runtime.base_url, runtime.workspace.tenant_id, port=port).start()
    except OSError as error:
        print(f"example app not served: {error} (try --demo-port)", file=sys.stderr)
        return None
    write_json(data_dir / DEMO_FILE, demo.to_json())
    print(f"  example app {demo.url}/signup   (Userfront's toolkit forms)\n", flush=True)
    return demo


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="[%(name)s] %(levelname)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    runtime = LocalRuntime(
        template_path=args.template,
        data_dir=args.data_dir,
        port=args.port,
        host=args.host,
        bootstrap=not args.no_bootstrap,
        parameters=dict(args.parameter),
        access_log=not args.quiet,
        save_interval=args.save_interval,
    )
    if not start_or_explain(runtime, f"is port {args.port} in use? try --port"):
        return 1
    demo = None if args.no_demo else start_demo(runtime, args.demo_port, args.data_dir)
    with contextlib.ExitStack() as extras:
        if args.oidc_port >= 0:
            extras.enter_context(_oidc_provider(args.oidc_port))
        try:
            while not stop.wait(0.5):
                pass
        finally:
            print("\nstopping: saving state...", file=sys.stderr)
            if demo is not None:
                demo.stop()
            runtime.stop()
    return 0


@contextlib.contextmanager
def _oidc_provider(port: int) -> Iterator[None]:
    """A real OIDC provider (`oidc-provider-mock`) to configure as a tenant's `custom`
    provider, or as `google` through the test-only endpoint override (docs/sso.md)."""
    import oidc_provider_mock  # a dev dependency, like the rest of the local runtime

    try:
        server_context = oidc_provider_mock.run_server_in_thread(port=port)
        server = server_context.__enter__()
    except (OSError, SystemExit) as error:  # werkzeug exits when the port is taken
        print(f"OIDC provider not started: {error!r} (try --oidc-port)", file=sys.stderr)
        yield
        return
    print(f"OIDC provider for SSO: http://localhost:{server.server_port}", file=sys.stderr)
    try:
        yield
    finally:
        server_context.__exit__(None, None, None)


if __name__ == "__main__":
    sys.exit(main())
