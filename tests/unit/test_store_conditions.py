"""`store.base.condition_held`: the one place where a conditional write's failed
condition becomes an answer (False) and any other failure stays an error."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from portcullis.store.base import Item, condition_held


def test_a_failed_condition_is_false_and_the_write_is_not_made(aws: str) -> None:
    pk = f"TEST#{uuid.uuid4()}"
    first = Item(pk, "COND", type="first")
    assert condition_held(first.save, condition=Item.pk.does_not_exist()) is True
    second = Item(pk, "COND", type="second")
    assert condition_held(second.save, condition=Item.pk.does_not_exist()) is False
    assert Item.get(pk, "COND", consistent_read=True).type == "first"
    assert condition_held(second.delete, condition=Item.type == "second") is False
    assert condition_held(first.delete, condition=Item.type == "first") is True


@pytest.mark.parametrize("error", [PutError, UpdateError, DeleteError])
def test_any_other_failure_is_raised(error: type[PutError]) -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "PutItem")

    def write() -> None:
        raise error("refused", cause=throttled)

    with pytest.raises(error):
        condition_held(write)
