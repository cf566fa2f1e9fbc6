"""The SAML IdP's first signing key: a second "first" key (a simultaneous first use of
the workspace) is refused by the guard written with the first, and rotation still adds
keys. (Not raced with threads here: moto's threaded server does not apply a
transaction's condition and writes atomically across threads, DynamoDB does.)"""

from __future__ import annotations

import uuid

from portcullis.saml import keys
from portcullis.store import saml as store


def _workspace() -> str:
    return uuid.uuid4().hex[:8]


def test_a_second_first_key_is_refused_and_writes_nothing(aws: str) -> None:
    workspace = _workspace()
    first = keys._generate(workspace)
    second = keys._generate(workspace)
    assert store.put_first_key(first) is True
    assert store.put_first_key(second) is False
    assert [item.kid for item in store.list_keys(workspace)] == [first.kid]


def test_rotation_adds_keys_after_the_first(aws: str) -> None:
    workspace = _workspace()
    first = keys.signing_key(workspace)
    rotated = keys.rotate(workspace)
    assert [item.kid for item in store.list_keys(workspace)] == [rotated.kid, first.kid]
    assert keys.signing_key(workspace).kid == rotated.kid
