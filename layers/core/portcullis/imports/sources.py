"""Source presets (concepts §7.3, §7.4): one record of another system's export → one import
row (api-server §1.10). A preset only renames and reshapes fields; checking a row's values
is the job of the import's row validation, so a preset never rejects what it can map."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SOURCES = frozenset({"userfront", "csv", "cognito", "auth0", "firebase"})


class UnmappableRecord(ValueError):
    """A record the preset cannot turn into a row; the message names what is wrong."""


def to_row(source: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The import row for one record of `source` (one of `SOURCES`)."""
    if source in ("userfront", "csv"):
        row = dict(record)
        if "id" in row and "userId" not in row:
            row["userId"] = row.pop("id")
        return row
    raise UnmappableRecord(f"source {source!r} is not supported yet")
