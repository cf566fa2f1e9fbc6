"""The `auth.send` outbox task (see `auth.deferred`): the per-user part of a reset-link or
verify-email request, run by the outbox sender after the request has answered.

It resolves the request's tenant, mode and settings again from what the task carries
(so links point where the request's would have), finds the account, and writes the
link and its email as the synchronous flow does. An address without an account, a
tenant deleted meanwhile, or an origin that is no longer live: nothing is sent (the
request's answer was the same in every case). A failure is retried by the outbox.
"""

from __future__ import annotations

from portcullis.auth import context, identity, link, reset
from portcullis.platform.errors import NotFound
from portcullis.store import transactions

# The task has no client; limits were counted by the request that queued it.
TASK_IP = "0.0.0.0"


def run(
    kind: str,
    tenant_id: str,
    mode: str,
    origin: str | None,
    address: str,
    redirect: str | None = None,
) -> None:
    try:
        req = context.load(tenant_id, origin=origin, ip=TASK_IP, user_agent=None)
    except NotFound:
        return
    if req.mode != mode:
        return  # the origin's domain left the live domains since: no live link for it
    user = identity.find_by_email(req, address)
    if user is None:
        return
    if kind == "reset":
        reset.issue_link(req, user, address, redirect)
    elif kind == "verify":
        _, items = link.link_items(req, user, "verify", address, redirect=redirect)
        transactions.commit(items, [])
    else:
        raise ValueError(f"unknown deferred send {kind!r}")
