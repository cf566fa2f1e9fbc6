"""Local state on disk, so data created while developing survives a restart.

Everything is plain JSON in the data directory (`.portcullis/` by default):
`table.json` (items in DynamoDB JSON), `kms.json` (the local key, so envelope-encrypted
data still decrypts), `workspace.json` (the bootstrap tenant and its keys: secrets, so
0600) and `local.json` (where the running service is, for tools and tests). Writes go to
a temporary file first, so a crash mid-save never leaves a truncated file behind.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from infra.local.aws import KmsKeyState

TABLE_FILE = "table.json"
KMS_FILE = "kms.json"
WORKSPACE_FILE = "workspace.json"
LOCAL_FILE = "local.json"
FORMAT_VERSION = 1
_BATCH = 25


def write_json(path: Path, data: Any, *, private: bool = False) -> None:
    """Atomically replace `path`; `private` files are created readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if private:
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if private:
        path.chmod(0o600)


def read_json(path: Path) -> Any | None:
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


# DynamoDB JSON carries binary values (B, BS) as bytes in boto3; JSON needs them as text.


def _binary(value: Any, convert: Callable[[Any], Any]) -> Any:
    """`value` with every binary value (B, BS) passed through `convert`."""
    if isinstance(value, dict):
        return {
            key: (
                convert(item)
                if key == "B"
                else [convert(b) for b in item]
                if key == "BS"
                else _binary(item, convert)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_binary(item, convert) for item in value]
    return value


def _encode(value: Any) -> Any:
    return _binary(value, lambda data: base64.b64encode(data).decode())


def _decode(value: Any) -> Any:
    return _binary(value, base64.b64decode)


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page.get("Items", []))
    return items


def save_tables(client: Any, tables: Iterable[str], data_dir: Path) -> int:
    """Dump every table to `table.json`; returns the number of items written."""
    dump = {name: [_encode(item) for item in _scan(client, name)] for name in tables}
    write_json(data_dir / TABLE_FILE, {"version": FORMAT_VERSION, "tables": dump})
    return sum(len(items) for items in dump.values())


def _expired(item: Mapping[str, Any], now: float, ttl_attribute: str) -> bool:
    """DynamoDB TTL deletes expired items eventually; a restart is a fine moment locally."""
    ttl = item.get(ttl_attribute, {}).get("N")
    try:
        return ttl is not None and float(ttl) < now
    except ValueError:
        return False


def load_tables(client: Any, tables: Iterable[str], data_dir: Path, ttl_attribute: str) -> int:
    """Restore saved items into the (freshly created) tables; returns how many were loaded."""
    saved = read_json(data_dir / TABLE_FILE)
    if not saved:
        return 0
    known = set(tables)
    now = time.time()
    loaded = 0
    for name, items in (saved.get("tables") or {}).items():
        if name not in known:
            continue
        live = [_decode(item) for item in items if not _expired(item, now, ttl_attribute)]
        for start in range(0, len(live), _BATCH):
            requests = [{"PutRequest": {"Item": item}} for item in live[start : start + _BATCH]]
            _batch_write(client, name, requests)
        loaded += len(live)
    return loaded


def _batch_write(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    pending = {table: requests}
    for attempt in range(10):
        response = client.batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(0.05 * (attempt + 1))
    raise RuntimeError(f"could not restore {len(pending.get(table, []))} items into {table}")


def load_kms(data_dir: Path) -> KmsKeyState | None:
    data = read_json(data_dir / KMS_FILE)
    return KmsKeyState.from_json(data) if data else None


def save_kms(data_dir: Path, state: KmsKeyState) -> None:
    write_json(data_dir / KMS_FILE, state.to_json(), private=True)
