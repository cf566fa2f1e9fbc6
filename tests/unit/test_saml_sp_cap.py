"""The cap on a tenant's SAML service providers is kept by the write that creates one
(a count item changed in the same transaction), not by a count read before it."""

from __future__ import annotations

import uuid

import pytest

from portcullis.platform.errors import BadRequest
from portcullis.saml import sps
from portcullis.store import saml as store


def _body(n: int) -> dict[str, str]:
    entity = f"https://sp{n}.example.com/{uuid.uuid4().hex[:6]}"
    return {"name": f"SP {n}", "entityId": entity, "acsUrl": f"{entity}/acs"}


def test_the_cap_holds_and_a_deletion_frees_a_place(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sps, "MAX_SPS", 2)
    tenant = uuid.uuid4().hex[:8]
    first = sps.create(tenant, _body(1))
    sps.create(tenant, _body(2))
    with pytest.raises(BadRequest, match="at most 2 service providers"):
        sps.create(tenant, _body(3))
    assert len(store.list_sps(tenant)) == 2
    sps.delete(tenant, first["spId"])
    sps.create(tenant, _body(4))
    assert len(store.list_sps(tenant)) == 2


def test_a_refused_creation_leaves_the_count_unchanged(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sps, "MAX_SPS", 2)
    tenant = uuid.uuid4().hex[:8]
    body = _body(1)
    sps.create(tenant, body)
    with pytest.raises(BadRequest, match='"entityId" is already registered'):
        sps.create(tenant, body)  # the same entity id: the whole write is refused
    sps.create(tenant, _body(2))  # so one place is still free
    assert len(store.list_sps(tenant)) == 2


def test_sps_stored_before_the_count_existed_are_counted(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sps, "MAX_SPS", 2)
    tenant = uuid.uuid4().hex[:8]
    sps.create(tenant, _body(1))
    sps.create(tenant, _body(2))
    store.SamlSpCountItem(store.tenant_pk(store.MODE, tenant), store.SP_COUNT_SK).delete()
    with pytest.raises(BadRequest, match="at most 2 service providers"):
        sps.create(tenant, _body(3))
