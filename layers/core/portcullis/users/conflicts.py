"""What a user write does when it meets another one: a taken email, username or phone
number becomes the 400 message of the server API, and a concurrent change of the same
record is retried on a fresh copy.

Writes of an existing record are optimistic: `store.users.save_user` checks the
`version` read, and on a concurrent change the write is re-applied (`retrying`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from portcullis.platform.errors import BadRequest, TooManyRequests
from portcullis.store import users as store

CONFLICT_MESSAGES = {
    "email": "Email already exists",
    "username": "Username already exists",
    "phoneNumber": "Phone number already exists",
    "userId": "User already exists",
}
WRITE_ATTEMPTS = 6

T = TypeVar("T")


def conflict_error(exc: store.Conflict, messages: dict[str, str] | None = None) -> BadRequest:
    return BadRequest((messages or CONFLICT_MESSAGES).get(exc.field, "User already exists"))


def retrying(attempt: Callable[[], T]) -> T:
    """Run a read-modify-write until it commits.

    `Changed` (someone wrote the record in between) and `Contention` (DynamoDB
    cancelled a transaction racing for the same items) are both safe to retry; the
    jittered pause keeps a burst of writers from colliding again in lockstep.
    """
    for number in range(WRITE_ATTEMPTS):
        try:
            return attempt()
        except (store.Changed, store.Contention):
            if number == WRITE_ATTEMPTS - 1:
                break
            time.sleep(random.uniform(0.01, 0.05) * (number + 1))  # noqa: S311 (jitter)
    raise TooManyRequests("Too many concurrent changes to this user, please retry", retry_after=1)
