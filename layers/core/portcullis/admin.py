"""Operator commands, run against the local runtime or a deployed stack.

    python -m portcullis.admin create-workspace --name "Acme"
    python -m portcullis.admin replace-seed-password --tenant-id abcd1234
    python -m portcullis.admin allow-sender-domain --tenant-id abcd1234 --domain acme.com
    python -m portcullis.admin remove-sender-domain --tenant-id abcd1234 --domain acme.com
    python -m portcullis.admin sender-domains --tenant-id abcd1234
    python -m portcullis.admin rotate-jwt-key --tenant abcd1234 --mode live [--activate-now]
    python -m portcullis.admin email-status --email someone@example.com [--clear]
    python -m portcullis.admin export-users --tenant abcd1234 --mode live \
        [--include-password-hashes]   (JSON Lines on stdout; docs/migration.md "Export")

Talks to DynamoDB and KMS directly using TABLE_NAME, KMS_KEY_ID, AWS_REGION and the
usual AWS credentials (or AWS_ENDPOINT_URL for the local runtime's moto server).
Add `--json` to any command for machine-readable output.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _print(result: dict[str, Any], as_json: bool, lines: list[str]) -> int:
    if as_json:
        print(json.dumps(result))
    else:
        print("\n".join(lines))
    return 0


def _create_workspace(name: str, as_json: bool) -> int:
    from portcullis.tenants.workspace import create_workspace

    created = create_workspace(name)
    result = {
        "tenantId": created.tenant_id,
        "name": created.name,
        "keys": created.keys,
        "seedPassword": created.seed_password,
    }
    lines = [
        f"Workspace {created.name!r} created: tenantId {created.tenant_id}",
        "These keys and the password are shown once; store them in your secret manager now.",
    ]
    for mode, by_type in created.keys.items():
        for key_type, key in by_type.items():
            lines.append(f"  {mode:4} {key_type:8} {key}")
    lines.append(
        f"  test-mode seed users (admin@example.com, ...) password: {created.seed_password}"
    )
    return _print(result, as_json, lines)


def _replace_seed_password(tenant_id: str, as_json: bool) -> int:
    from portcullis.tenants import seedusers

    password, changed = seedusers.replace_password(tenant_id)
    result = {"tenantId": tenant_id, "seedPassword": password, "usernames": changed}
    if not changed:
        print(f"No seed users found in test mode of {tenant_id}", file=sys.stderr)
        return 1
    lines = [
        f"New password of the test-mode seed users {', '.join(changed)} (shown once):",
        f"  {password}",
        "Their sessions have been ended.",
    ]
    return _print(result, as_json, lines)


def _sender_domains(command: str, tenant_id: str, domain: str | None, as_json: bool) -> int:
    from portcullis.messaging import senders

    try:
        if command == "allow-sender-domain":
            own = senders.allow_domain(tenant_id, str(domain))
        elif command == "remove-sender-domain":
            own = senders.remove_domain(tenant_id, str(domain))
        else:
            own = senders.list_domains(tenant_id)[0]
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 1
    deployment = sorted(senders.list_domains(tenant_id)[1])
    result = {"tenantId": tenant_id, "domains": sorted(own), "deploymentDomains": deployment}
    lines = [
        f"Sender domains of workspace {tenant_id}: {', '.join(sorted(own)) or '(none)'}",
        f"Allowed for every workspace (SENDER_DOMAINS): {', '.join(deployment) or '(none)'}",
    ]
    return _print(result, as_json, lines)


# --- rotation: JWT signing keys (docs/keyrotation.md) ---------------------------------


def _rotate_jwt_key(tenant_id: str, mode: str, activate_now: bool, as_json: bool) -> int:
    """Give one tenant and mode a new signing key, as the admin endpoint does; for an
    operator without an API key of the tenant (or whose key leaked with the JWT key)."""
    from portcullis.platform.errors import PortcullisError
    from portcullis.tokens import rotation

    try:
        rotated = rotation.rotate(tenant_id, mode, activate_now=activate_now)
    except PortcullisError as refused:
        print(refused.message, file=sys.stderr)
        return 1
    result = {"tenantId": tenant_id, **rotated.json()}
    when = "now" if activate_now else f"at {result['activatesAt']} (after the warm-up)"
    lines = [
        f"New {mode} JWT signing key of {tenant_id}: kid {result['kid']}",
        f"Published in the JWKS now; signs {when}.",
    ]
    return _print(result, as_json, lines)


def _add_rotation_commands(commands: Any) -> list[argparse.ArgumentParser]:
    rotate = commands.add_parser(
        "rotate-jwt-key", help="add a new JWT signing key to a tenant (docs/keyrotation.md)"
    )
    rotate.add_argument("--tenant", "--tenant-id", dest="tenant_id", required=True)
    rotate.add_argument("--mode", required=True, choices=("test", "live"))
    rotate.add_argument(
        "--activate-now",
        action="store_true",
        help="sign with it at once (emergency: verifiers with a cached JWKS refuse its tokens)",
    )
    return [rotate]


def _email_status(address: str, clear: bool, as_json: bool) -> int:
    """Show whether sends to an address are stopped (bounced or complained, docs/emails.md),
    and with `--clear` lift it (and the user's `emailStatus`): only once the address is
    known to work again."""
    from portcullis.store import emailstatus
    from portcullis.users import emailstatus as users_emailstatus

    item = emailstatus.get(address)
    cleared = clear and users_emailstatus.lift(address) is not None
    status = None if item is None else {"status": item.status, "at": item.at, "detail": item.detail}
    result = {"email": emailstatus.normalise(address), "emailStatus": status, "cleared": cleared}
    if item is None:
        line = f"{result['email']}: not suppressed, emails are sent"
    else:
        line = f"{result['email']}: {item.status} since {item.at} ({item.detail or 'no detail'})"
        line += "; cleared, emails are sent again" if cleared else "; emails are not sent"
    return _print(result, as_json, [line])


def _export_users(tenant_id: str, mode: str, include_hashes: bool) -> int:
    """Every user of the tenant and mode as import rows, one JSON object a line, on stdout.
    Hashes need `EXPORT_PASSWORD_HASHES=true` in this command's environment as well as the
    flag, and are audited like the endpoint's (docs/migration.md "Export")."""
    import getpass

    from portcullis.imports import export
    from portcullis.messaging.events import PublishError
    from portcullis.platform.errors import PortcullisError
    from portcullis.store import tenants as tenant_store

    if tenant_store.get_tenant(mode, tenant_id) is None:
        print(f"No tenant {tenant_id} in {mode} mode", file=sys.stderr)
        return 1
    count = 0
    try:
        for line in export.every_row(
            tenant_id, mode, caller=f"operator:{getpass.getuser()}", include_hashes=include_hashes
        ):
            sys.stdout.write(line)
            count += 1
    except PortcullisError as refused:
        print(refused.message, file=sys.stderr)
        return 1
    except PublishError as unaudited:  # nothing of the unaudited page was written
        print(f"Stopped: the audit event could not be written ({unaudited})", file=sys.stderr)
        return 1
    sys.stdout.flush()
    print(f"Exported {count} users of {tenant_id} ({mode})", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m portcullis.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-workspace", help="create a workspace tenant and its keys")
    create.add_argument("--name", required=True)
    replace = commands.add_parser(
        "replace-seed-password", help="give the test-mode seed users a new random password"
    )
    allow = commands.add_parser(
        "allow-sender-domain", help="let a workspace send email from addresses on a domain"
    )
    remove = commands.add_parser(
        "remove-sender-domain", help="stop a workspace sending email from a domain"
    )
    show = commands.add_parser("sender-domains", help="list the domains a workspace may send from")
    status = commands.add_parser(
        "email-status", help="whether an address bounced or complained; --clear lifts it"
    )
    status.add_argument("--email", required=True)
    status.add_argument("--clear", action="store_true", help="send to the address again")
    exporting = commands.add_parser(
        "export-users", help="write a tenant's users as JSON Lines in the import format"
    )
    exporting.add_argument("--tenant", "--tenant-id", dest="tenant_id", required=True)
    exporting.add_argument("--mode", choices=("live", "test"), required=True)
    exporting.add_argument(
        "--include-password-hashes",
        action="store_true",
        help="also export password hashes (needs EXPORT_PASSWORD_HASHES=true; audited)",
    )
    for command in (replace, allow, remove, show):
        command.add_argument("--tenant-id", required=True, help="the workspace's tenantId")
    for command in (allow, remove):
        command.add_argument("--domain", required=True)
    for command in (
        create,
        replace,
        allow,
        remove,
        show,
        status,
        *_add_rotation_commands(commands),
    ):
        command.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "create-workspace":
        return _create_workspace(args.name, args.json)
    if args.command == "replace-seed-password":
        return _replace_seed_password(args.tenant_id, args.json)
    if args.command == "export-users":
        return _export_users(args.tenant_id, args.mode, args.include_password_hashes)
    if args.command == "email-status":
        return _email_status(args.email, args.clear, args.json)
    if args.command == "rotate-jwt-key":
        return _rotate_jwt_key(args.tenant_id, args.mode, args.activate_now, args.json)
    return _sender_domains(args.command, args.tenant_id, getattr(args, "domain", None), args.json)


if __name__ == "__main__":
    sys.exit(main())
