"""Operator commands, run against the local runtime or a deployed stack.

    python -m portcullis.admin create-workspace --name "Acme"

Talks to DynamoDB and KMS directly using TABLE_NAME, KMS_KEY_ID, AWS_REGION and the
usual AWS credentials (or AWS_ENDPOINT_URL for the local runtime's moto server).
"""

from __future__ import annotations

import argparse
import json
import sys


def _create_workspace(name: str, as_json: bool) -> int:
    from portcullis.workspace import create_workspace

    created = create_workspace(name)
    if as_json:
        print(
            json.dumps({"tenantId": created.tenant_id, "name": created.name, "keys": created.keys})
        )
        return 0
    print(f"Workspace {created.name!r} created: tenantId {created.tenant_id}")
    print("These keys are shown once; store them in your secret manager now.")
    for mode, by_type in created.keys.items():
        for key_type, key in by_type.items():
            print(f"  {mode:4} {key_type:8} {key}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portcullis.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-workspace", help="create a workspace tenant and its keys")
    create.add_argument("--name", required=True)
    create.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.command == "create-workspace":
        return _create_workspace(args.name, args.json)
    return 2


if __name__ == "__main__":
    sys.exit(main())
