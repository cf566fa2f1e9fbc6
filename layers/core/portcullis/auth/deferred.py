"""Sends whose work depends on whether the address has an account, moved off the request.

Reset link and verify email (without a token) must not tell a known address from an
unknown one (issue 8 item 7): answering the same is not enough when a known address
costs a link write, an email render and its encryption, and an unknown one nothing,
so the time to answer tells them apart. In live mode the request therefore does the
same work for every address: it counts the send limits and writes one outbox task,
`auth.send`; the outbox sender (`publisher` in AWS, the local runtime's drain) runs
`auth.sendtask.run`, which looks the user up and, for an account, writes the link and
its email. The answer is the §1.7 receipt either way.

Test mode answers with the link itself (api-client §0.6), which already says whether
the address has an account, so it stays synchronous.
"""

from __future__ import annotations

from portcullis.auth import identity, messages
from portcullis.auth.context import Request
from portcullis.messaging import outbox
from portcullis.store.users import UserItem

TASK = "auth.send"
KINDS = ("reset", "verify")


def enqueue(req: Request, kind: str, address: str, redirect: str | None = None) -> None:
    """One PutItem, whatever the address: the task that sends `kind` to it, if it is an
    account's. Carries what the request knew (tenant, mode, origin for the link)."""
    if kind not in KINDS:
        raise ValueError(f"unknown deferred send {kind!r}")
    args = {
        "kind": kind,
        "tenant_id": req.tenant_id,
        "mode": req.mode,
        "origin": req.origin,
        "address": address,
        "redirect": redirect,
    }
    outbox.enqueue([outbox.task_item(TASK, args, mode=req.mode, tenant_id=req.tenant_id)])


def account_to_send(
    req: Request, kind: str, email: str | None, redirect: str | None
) -> tuple[str, UserItem | None]:
    """The start of reset link and verify email (without a token): the checked address,
    and the account this request must send `kind` to now, if any. Live mode always
    answers none (the task is enqueued, whatever the address); so does an unknown
    address in test mode. None means: answer the receipt and stop."""
    address = identity.email(identity.required(email, "email is required"))
    messages.limit_send(req, "email", address)
    if not req.is_test:
        enqueue(req, kind, address, redirect)
        return address, None
    return address, identity.find_by_email(req, address)
