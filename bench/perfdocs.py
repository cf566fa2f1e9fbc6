"""docs/performance.md: each benchmark rewrites its own `## ...` section, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def replace_section(heading: str, text: str, docs: Path = DOCS) -> None:
    """Replace (or append) the `## {heading}` section; other sections stay as they are."""
    current = docs.read_text() if docs.exists() else "# Performance\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text.rstrip("\n") + "\n\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    docs.write_text(updated.rstrip("\n") + "\n")
