"""Stored rows: a job's checked rows in chunks of at most 100 rows (store/imports.py),
each sealed with KMS because rows carry password hashes, plain passwords and TOTP
secrets (DESIGN.md: a dump of the table reveals no usable credential).

`ChunkWriter` takes records one at a time (inline rows at create, an uploaded file's
records as the worker reads it) and writes each chunk as soon as it is full, so what is
held in memory is one chunk whatever the file's size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from portcullis.imports import rows
from portcullis.imports.reader import Unreadable
from portcullis.platform.errors import BadRequest
from portcullis.store import imports as store
from portcullis.tokens import envelope


def _context(import_id: str, number: int) -> str:
    return f"import:{import_id}:{number}"


def seal_rows(import_id: str, number: int, entries: list[dict[str, Any]]) -> dict[str, str]:
    plain = json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode()
    return envelope.seal(plain, _context(import_id, number)).stored()


def open_rows(chunk: store.ChunkItem) -> list[dict[str, Any]]:
    sealed = envelope.Sealed.from_stored(chunk.rows)
    entries: list[dict[str, Any]] = json.loads(
        envelope.open_sealed(sealed, _context(chunk.importId, int(chunk.number)))
    )
    return entries


@dataclass
class ChunkWriter:
    """Checks records and stores them chunk by chunk; counts rows and row errors."""

    import_id: str
    rules: rows.RowRules
    seen: rows.Seen = field(default_factory=rows.Seen)
    total: int = 0
    errors: int = 0
    chunks: int = 0
    _entries: list[dict[str, Any]] = field(default_factory=list)
    _errors: list[dict[str, Any]] = field(default_factory=list)
    _bytes: int = 0

    def add(self, record: Any) -> None:
        index = self.total
        self.total += 1
        try:
            if isinstance(record, Unreadable):
                raise BadRequest(record.message)
            row = rows.check(index, record, self.rules, self.seen)
            size = len(json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode())
            if size > rows.MAX_ROW_BYTES:
                raise BadRequest(f"the row is larger than {rows.MAX_ROW_BYTES} bytes")
            entry: dict[str, Any] = {"index": index, "row": row}
        except BadRequest as problem:
            error = rows.error_of(index, record, problem.message)
            entry = {"index": index, "error": error}
            self._errors.append(error)
            self.errors += 1
            size = 200
        if self._entries and self._bytes + size > rows.CHUNK_BYTES:
            self.flush()
        self._entries.append(entry)
        self._bytes += size
        if len(self._entries) >= rows.CHUNK_ROWS:
            self.flush()

    def add_all(self, records: Iterable[Any]) -> None:
        for record in records:
            self.add(record)

    def flush(self) -> None:
        if not self._entries:
            return
        number = self.chunks
        items: list[Any] = [
            store.chunk_item(
                self.import_id, number, seal_rows(self.import_id, number, self._entries)
            )
        ]
        store.write_items(items)
        if self._errors:
            store.write_items([store.errors_item(self.import_id, number, self._errors)])
        self.chunks += 1
        self._entries = []
        self._errors = []
        self._bytes = 0
