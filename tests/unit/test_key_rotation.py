"""Signing-key rotation (docs/keyrotation.md): the timeline of a key, rotation with and
without warm-up, removal, verification by `kid` with a bounded reload, the conditional
writes that keep exactly one signing key, pruning, the operator command and the
scheduled handler. Against moto (DynamoDB + KMS), real RSA keys and PyJWT."""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from portcullis import admin
from portcullis.platform.errors import BadRequest, NotFound, Unauthorized
from portcullis.platform.timefmt import iso, now, parse_iso
from portcullis.store import jwtkeys as store
from portcullis.store.transactions import WriteConflict
from portcullis.tenants import service as tenants
from portcullis.tokens import rotation, signing

LONG = 10 * 365 * 86400  # token lifetime that outlives every clock the tests move


def claims(tenant_id: str, seconds: int = LONG) -> dict[str, Any]:
    issued = int(time.time())
    return {
        "mode": "test",
        "tenantId": tenant_id,
        "userId": 1,
        "iat": issued,
        "exp": issued + seconds,
    }


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    """Move the rotation clock (signing and rotation read `now`); drop cached signers."""
    monkeypatch.setattr(signing, "now", lambda: at)
    monkeypatch.setattr(rotation, "now", lambda: at)
    signing._signer_cache.clear()


@pytest.fixture
def tenant_id(aws: str) -> str:
    return tenants.create("test", "Rotation").tenantId


def chain(tenant_id: str) -> list[store.JwtKeyItem]:
    return store.list_keys("test", tenant_id, consistent=True)


def heads(tenant_id: str) -> list[store.JwtKeyItem]:
    return [k for k in chain(tenant_id) if k.retiredAt is None]


# --- The timeline of a key, in memory ------------------------------------------------


def _key(
    created: datetime, activates: datetime | None, retired: datetime | None
) -> store.JwtKeyItem:
    item = store.JwtKeyItem("pk", f"JWTKEY#{iso(created)}#{uuid.uuid4()}", kid=str(uuid.uuid4()))
    item.createdAt = iso(created)
    item.activatesAt = iso(activates) if activates else None
    item.retiredAt = iso(retired) if retired else None
    return item


def test_the_timeline_of_a_key() -> None:
    t0 = parse_iso(iso(now() - timedelta(days=1)))  # whole milliseconds, as stored
    legacy = _key(t0, None, t0 + timedelta(hours=1))  # written before rotation existed
    current = _key(t0 + timedelta(minutes=50), t0 + timedelta(hours=1), t0 + timedelta(days=2))
    pending = _key(t0 + timedelta(days=2) - timedelta(minutes=10), t0 + timedelta(days=2), None)
    at = t0 + timedelta(hours=2)
    assert signing.activates_at(legacy) == t0  # no activatesAt: createdAt
    assert not signing.is_signing(legacy, at) and signing.is_retired(legacy, at)
    assert signing.is_signing(current, at) and not signing.is_pending(current, at)
    assert signing.is_pending(pending, at) and not signing.is_signing(pending, at)
    assert signing.signing_key([legacy, pending, current], at) is current
    assert signing.in_order([legacy, current, pending], at) == [current, pending, legacy]
    # a retired key verifies for the longest lifetime (+ the cache grace), then not
    hour = 3600
    edge = t0 + timedelta(hours=1, seconds=hour + signing.CACHE_SECONDS)
    assert signing.verifies(legacy, edge, hour)
    assert not signing.verifies(legacy, edge + timedelta(seconds=1), hour)
    assert signing.verifies(pending, edge, hour) and signing.verifies(current, edge, hour)
    # the hand-over instant belongs to the new key: never two signing, never none
    handover = t0 + timedelta(days=2)
    for moment in (handover - timedelta(milliseconds=1), handover, handover + timedelta(seconds=1)):
        assert len([k for k in (legacy, current, pending) if signing.is_signing(k, moment)]) == 1


# --- Rotation -------------------------------------------------------------------------


def test_rotation_warms_up_before_signing(tenant_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    old = signing.sign(tenant_id, "test", claims(tenant_id))
    rotated = rotation.rotate(tenant_id, "test")
    assert rotated.json()["isActive"] is False
    assert rotated.activates_at - now() > timedelta(minutes=9)
    # published at once, behind the signing key; the old key keeps signing
    published = [k.kid for k in signing.published_keys(tenant_id, "test", 3600)]
    assert published == [kid_of(old), rotated.key.kid]
    assert kid_of(signing.sign(tenant_id, "test", claims(tenant_id))) == kid_of(old)
    # a second rotation while the new key warms up is refused, without activateNow
    with pytest.raises(rotation.RotationInProgress):
        rotation.rotate(tenant_id, "test")
    assert len(heads(tenant_id)) == 1
    # after the warm-up the new key signs; tokens of the old one still verify
    clock(monkeypatch, rotated.activates_at + timedelta(seconds=1))
    new = signing.sign(tenant_id, "test", claims(tenant_id))
    assert kid_of(new) == rotated.key.kid
    assert signing.verify(old).kid == kid_of(old)
    assert signing.verify(new).kid == rotated.key.kid
    assert [k.kid for k in signing.published_keys(tenant_id, "test", 3600)] == [
        rotated.key.kid,
        kid_of(old),
    ]


def test_immediate_rotation_signs_at_once_and_replaces_a_warming_key(tenant_id: str) -> None:
    old = signing.sign(tenant_id, "test", claims(tenant_id))
    warming = rotation.rotate(tenant_id, "test")
    urgent = rotation.rotate(tenant_id, "test", activate_now=True)
    assert urgent.json()["isActive"] is True
    token = signing.sign(tenant_id, "test", claims(tenant_id))
    assert kid_of(token) == urgent.key.kid
    kids = [k.kid for k in chain(tenant_id)]
    assert warming.key.kid not in kids  # it never signed: dropped, not left to linger
    assert [k.kid for k in heads(tenant_id)] == [urgent.key.kid]
    assert signing.verify(old).kid == kid_of(old)
    original = next(k for k in chain(tenant_id) if k.kid == kid_of(old))
    assert original.retiredAt == urgent.key.activatesAt


def test_a_stale_rotation_cannot_commit(tenant_id: str) -> None:
    """Two rotations that read the same chain: the second one's conditional write fails,
    so the chain never gets two heads (two signing keys) or loses its head (none)."""
    stale_head = heads(tenant_id)[0]
    rotation.rotate(tenant_id, "test", activate_now=True)
    late = signing.new_signing_key_item(tenant_id, "test", activates_at=iso(now()))
    with pytest.raises(WriteConflict):
        store.rotate(late, stale_head, current_retired_at=None)
    assert len(heads(tenant_id)) == 1
    assert late.kid not in [k.kid for k in chain(tenant_id)]
    at = now()
    assert len([k for k in chain(tenant_id) if signing.is_signing(k, at)]) == 1


def test_interleaved_rotations_leave_one_signing_key(
    tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotation that commits between another one's read and its write: the later
    write fails its condition, re-reads the chain and answers 409 (a key is warming)."""
    real = store.rotate
    inner: list[rotation.Rotated] = []
    started: list[bool] = []

    def interleaved(*args: Any, **kwargs: Any) -> None:
        if not started:
            started.append(True)
            inner.append(rotation.rotate(tenant_id, "test"))  # commits first
        real(*args, **kwargs)

    monkeypatch.setattr(store, "rotate", interleaved)
    with pytest.raises(rotation.RotationInProgress):
        rotation.rotate(tenant_id, "test")
    [head] = heads(tenant_id)
    assert head.kid == inner[0].key.kid
    for moment in (now(), inner[0].activates_at + timedelta(seconds=1)):
        assert len([k for k in chain(tenant_id) if signing.is_signing(k, moment)]) == 1


def test_the_number_of_verifying_keys_is_bounded(
    tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rotation, "MAX_KEYS", 3)
    first = heads(tenant_id)[0].kid
    rotation.rotate(tenant_id, "test", activate_now=True)
    rotation.rotate(tenant_id, "test", activate_now=True)
    with pytest.raises(rotation.TooManyKeys):  # checked before any key is generated
        rotation.rotate(tenant_id, "test", activate_now=True)
    assert len(chain(tenant_id)) == 3
    rotation.remove(tenant_id, "test", first)  # a retired key makes room
    rotation.rotate(tenant_id, "test", activate_now=True)
    assert len(chain(tenant_id)) == 3


def test_rotating_an_unknown_tenant_is_404(aws: str) -> None:
    with pytest.raises(NotFound):
        rotation.rotate("zzzz9999", "test")


# --- Removal --------------------------------------------------------------------------


def test_removing_a_retired_key_ends_its_tokens_at_once(tenant_id: str) -> None:
    old = signing.sign(tenant_id, "test", claims(tenant_id))
    rotation.rotate(tenant_id, "test", activate_now=True)
    assert signing.verify(old).kid == kid_of(old)
    removed = rotation.remove(tenant_id, "test", kid_of(old))
    assert removed["kid"] == kid_of(old) and removed["isActive"] is False
    with pytest.raises(Unauthorized):
        signing.verify(old)
    assert kid_of(old) not in [k.kid for k in signing.published_keys(tenant_id, "test", 3600)]
    with pytest.raises(NotFound):
        rotation.remove(tenant_id, "test", kid_of(old))


def test_the_signing_key_cannot_be_removed(tenant_id: str) -> None:
    signing_kid = heads(tenant_id)[0].kid
    with pytest.raises(BadRequest, match="signing key"):
        rotation.remove(tenant_id, "test", signing_kid)
    assert kid_of(signing.sign(tenant_id, "test", claims(tenant_id))) == signing_kid


def test_removing_a_warming_key_calls_the_rotation_off(
    tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = heads(tenant_id)[0]
    warming = rotation.rotate(tenant_id, "test")
    rotation.remove(tenant_id, "test", warming.key.kid)
    assert [k.kid for k in chain(tenant_id)] == [current.kid]
    assert heads(tenant_id)[0].retiredAt is None
    clock(monkeypatch, warming.activates_at + timedelta(minutes=1))
    assert kid_of(signing.sign(tenant_id, "test", claims(tenant_id))) == current.kid
    assert rotation.rotate(tenant_id, "test").key.kid  # a new rotation may start again


# --- Verification by kid --------------------------------------------------------------


_FOREIGN: list[rsa.RSAPrivateKey] = []


def _foreign_token(tenant_id: str, kid: str) -> str:
    """A well-formed RS256 token for the tenant, signed by a key that is not its own."""
    if not _FOREIGN:
        _FOREIGN.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return jwt.encode(claims(tenant_id), _FOREIGN[0], algorithm="RS256", headers={"kid": kid})


def test_a_new_kid_reloads_the_copy_once_and_random_kids_do_not(
    tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = signing.sign(tenant_id, "test", claims(tenant_id))
    signing.verify(old)  # this instance now holds a copy of the key list
    stale = list(signing._public_cache[(tenant_id, "test")])
    rotated = rotation.rotate(tenant_id, "test", activate_now=True)
    new = signing.sign(tenant_id, "test", claims(tenant_id))
    # as on an instance that did not make the rotation: the old copy, loaded a while ago
    signing._public_cache[(tenant_id, "test")] = stale
    signing._reloaded.pop((tenant_id, "test"), None)
    reads: list[str] = []
    real = store.list_keys

    def counted(mode: str, tid: str, **kwargs: Any) -> list[store.JwtKeyItem]:
        reads.append(tid)
        return real(mode, tid, **kwargs)

    monkeypatch.setattr(store, "list_keys", counted)
    assert signing.verify(new).kid == rotated.key.kid  # learnt without a restart
    assert reads == [tenant_id]
    for _ in range(5):  # made-up kids: refused, and no read within RELOAD_SECONDS
        with pytest.raises(Unauthorized):
            signing.verify(_foreign_token(tenant_id, str(uuid.uuid4())))
    assert reads == [tenant_id]
    signing._reloaded.pop((tenant_id, "test"), None)  # RELOAD_SECONDS later
    with pytest.raises(Unauthorized):
        signing.verify(_foreign_token(tenant_id, str(uuid.uuid4())))
    assert reads == [tenant_id, tenant_id]
    # a token naming a published kid but signed by another key fails its signature
    with pytest.raises(Unauthorized):
        signing.verify(_foreign_token(tenant_id, rotated.key.kid))


def test_a_retired_key_stops_verifying_after_the_longest_lifetime(
    tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = signing.sign(tenant_id, "test", claims(tenant_id))
    rotated = rotation.rotate(tenant_id, "test", activate_now=True)
    longest = 2_592_000  # refreshTokenDuration default: the longer of the two
    just_in = rotated.activates_at + timedelta(seconds=longest)
    clock(monkeypatch, just_in)
    assert signing.verify(old).kid == kid_of(old)
    past = just_in + timedelta(seconds=signing.CACHE_SECONDS + 1)
    clock(monkeypatch, past)
    with pytest.raises(Unauthorized):
        signing.verify(old)
    assert [k.kid for k in signing.published_keys(tenant_id, "test", longest)] == [rotated.key.kid]
    # the next rotation deletes the expired key from the table (sealed private half too)
    rotation.rotate(tenant_id, "test", activate_now=True)
    assert kid_of(old) not in [k.kid for k in chain(tenant_id)]


# --- Operator command and schedule ----------------------------------------------------


def test_operator_command(tenant_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = heads(tenant_id)[0].kid
    code = admin.main(
        ["rotate-jwt-key", "--tenant", tenant_id, "--mode", "test", "--activate-now", "--json"]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["tenantId"] == tenant_id and printed["isActive"] is True
    assert printed["kid"] != before
    assert kid_of(signing.sign(tenant_id, "test", claims(tenant_id))) == printed["kid"]
    assert admin.main(["rotate-jwt-key", "--tenant-id", tenant_id, "--mode", "test"]) == 0
    assert "signs at" in capsys.readouterr().out
    assert admin.main(["rotate-jwt-key", "--tenant", tenant_id, "--mode", "test"]) == 1
    assert "already waiting" in capsys.readouterr().err
    assert admin.main(["rotate-jwt-key", "--tenant", "zzzz9999", "--mode", "live"]) == 1


def _age(tenant_id: str, days: int) -> None:
    """Make the tenant's key look `days` old to the schedule (no waiting for days)."""
    head = heads(tenant_id)[0]
    head.update(actions=[store.JwtKeyItem.gsi1sk.set(f"{iso(now() - timedelta(days=days))}#x")])


def _keyrotation_app() -> Any:
    path = Path(__file__).resolve().parents[2] / "functions" / "keyrotation" / "app.py"
    spec = importlib.util.spec_from_file_location("keyrotation_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    function_name = "keyrotation"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:keyrotation"
    aws_request_id = "req"


def test_scheduled_handler_rotates_due_tenants_only(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    due, fresh = (tenants.create("test", name).tenantId for name in ("Due", "Fresh"))
    _age(due, 40)
    old_kid = heads(due)[0].kid
    fresh_kid = heads(fresh)[0].kid
    app = _keyrotation_app()
    monkeypatch.setenv("JWT_KEY_ROTATION_DAYS", "0")
    assert app.lambda_handler({"source": "aws.events"}, Context()) == {"rotated": [], "skipped": []}
    monkeypatch.setenv("JWT_KEY_ROTATION_DAYS", "30")
    ran = app.lambda_handler({"source": "aws.events"}, Context())
    assert [(r["mode"], r["tenantId"]) for r in ran["rotated"]] == [("test", due)]
    new_head = heads(due)[0]
    assert new_head.kid == ran["rotated"][0]["kid"] != old_kid
    assert signing.is_pending(new_head, now())  # the warm-up applies
    assert heads(fresh)[0].kid == fresh_kid
    assert app.lambda_handler({"source": "aws.events"}, Context())["rotated"] == []
