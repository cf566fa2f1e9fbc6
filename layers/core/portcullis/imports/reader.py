"""Reading an uploaded import file record by record (concepts §7.4): JSON Lines, a JSON
array, or CSV with a header row. Every reader takes a binary stream (the S3 object's
body) and holds one record at a time, so memory stays flat whatever the file's size.

A record that cannot be read (a bad JSON line, a CSV row with too many cells) is yielded
as `Unreadable` with its message and becomes that row's error; a file that cannot be
read at all (not UTF-8, not a JSON array) raises `BadFile` and fails the import.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

FORMATS = ("jsonl", "json", "csv")
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "json": "application/json", "csv": "text/csv"}
READ_BYTES = 64 * 1024
MAX_RECORD_BYTES = 1024 * 1024
# CSV columns whose text is read as another type (the other columns stay strings).
_CSV_INTEGERS = ("userId", "id")
_CSV_BOOLEANS = ("locked", "isMfaRequired", "isEmailConfirmed", "isPhoneNumberConfirmed")
_CSV_JSON = ("data",)


class BadFile(ValueError):
    """The file as a whole is unreadable; the message says why."""


@dataclass(frozen=True)
class Unreadable:
    message: str


Record = dict[str, Any] | Unreadable | Any


def records(stream: BinaryIO, file_format: str) -> Iterator[Record]:
    if file_format == "jsonl":
        return _json_lines(stream)
    if file_format == "json":
        return _json_array(stream)
    if file_format == "csv":
        return _csv(stream)
    raise BadFile(f'"format" must be one of [{", ".join(FORMATS)}]')


def _text(stream: BinaryIO) -> Iterator[str]:
    """The stream as text, a piece at a time (a BOM is dropped)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    try:
        while True:
            block = stream.read(READ_BYTES)
            if not block:
                tail = decoder.decode(b"", final=True)
                if tail:
                    yield tail
                return
            text = decoder.decode(block)
            if text:
                yield text
    except UnicodeDecodeError:
        raise BadFile("the file must be UTF-8 text") from None


def _lines(stream: BinaryIO) -> Iterator[str]:
    pending = ""
    for piece in _text(stream):
        pending += piece
        *complete, pending = pending.split("\n")
        yield from complete
        if len(pending) > MAX_RECORD_BYTES:
            raise BadFile(f"a line is longer than {MAX_RECORD_BYTES} bytes")
    if pending:
        yield pending


def _json_lines(stream: BinaryIO) -> Iterator[Record]:
    for line in _lines(stream):
        text = line.strip()
        if not text:
            continue
        try:
            yield json.loads(text)
        except (ValueError, RecursionError):
            yield Unreadable("the line is not valid JSON")


def _json_array(stream: BinaryIO) -> Iterator[Record]:
    """The elements of a top-level JSON array, decoded one at a time from a sliding
    buffer (`raw_decode` on what has arrived; more is read while an element is cut)."""
    decoder = json.JSONDecoder()
    pieces = _text(stream)
    buffer = ""
    position = 0
    started = False
    exhausted = False

    def more() -> bool:
        nonlocal buffer, position, exhausted
        if exhausted:
            return False
        piece = next(pieces, None)
        if piece is None:
            exhausted = True
            return False
        buffer = buffer[position:] + piece
        position = 0
        return True

    def skip_space() -> None:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n":
                position += 1
            if position < len(buffer) or not more():
                return

    skip_space()
    if position >= len(buffer) or buffer[position] != "[":
        raise BadFile("the file must be a JSON array")
    position += 1
    while True:
        skip_space()
        if position >= len(buffer):
            raise BadFile("the JSON array is not closed")
        if buffer[position] == "]":
            return
        if started:
            if buffer[position] != ",":
                raise BadFile("the JSON array is malformed")
            position += 1
            skip_space()
        started = True
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError:
                if len(buffer) - position > MAX_RECORD_BYTES or not more():
                    raise BadFile("the JSON array is malformed") from None
                continue
            except RecursionError:
                raise BadFile("the JSON array is nested too deeply") from None
            cut = end == len(buffer) or buffer[end] not in " \t\r\n,]"
            if isinstance(value, int | float) and cut and not exhausted and more():
                continue  # a number may go on in the next piece ("-7" of "-7.5e3")
            position = end
            yield value
            break


def _csv_value(column: str, text: str) -> Any:
    if column in _CSV_INTEGERS:
        try:
            return int(text)
        except ValueError:
            return text  # the row check names the column
    if column in _CSV_BOOLEANS:
        lowered = text.lower()
        return {"true": True, "false": False, "1": True, "0": False}.get(lowered, text)
    if column in _CSV_JSON:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if column == "roles":
        return [name.strip() for name in text.replace(";", ",").split(",") if name.strip()]
    return text


def _csv(stream: BinaryIO) -> Iterator[Record]:
    """A header row (with `id` or `userId` and `email`, concepts §7.4), then one user per
    row; empty cells are absent fields."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if not header:
            return
        columns = [name.strip() for name in header]
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                yield Unreadable("the row has more cells than the header")
                continue
            yield {
                column: _csv_value(column, cell)
                for column, cell in zip(columns, cells, strict=False)
                if cell != ""
            }
    except UnicodeDecodeError:
        raise BadFile("the file must be UTF-8 text") from None
    except csv.Error as exc:
        raise BadFile(f"the CSV file is malformed: {exc}") from None
