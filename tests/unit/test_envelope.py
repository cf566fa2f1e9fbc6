"""The one list envelope (api-server §1.9) in each of the forms the endpoints answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from portcullis.search.envelope import list_envelope


@pytest.mark.parametrize(("results", "pages"), [([], 0), (["a"], 1), (["a", "b", "c"], 1)])
def test_a_whole_list_is_one_page_or_none(results: list[str], pages: int) -> None:
    """Keys, JWT keys and roles: every item at once, no `meta`."""
    assert list_envelope(results, meta=False) == {
        "totalCount": len(results),
        "totalPages": pages,
        "results": results,
    }


def test_a_first_page_of_children_counts_every_page() -> None:
    """A tenant's `children`: the first 50 of 51, the total from the tenant's counter."""
    first = [f"child{i}" for i in range(50)]
    assert list_envelope(first, 51, 1, 50, meta=False) == {
        "totalCount": 51,
        "totalPages": 2,
        "results": first,
    }


def test_a_page_past_the_end_keeps_the_totals_and_the_continuation() -> None:
    envelope = list_envelope([], 3, 5, 2, continuation="YWZ0ZXI6MQ")
    assert envelope == {
        "totalCount": 3,
        "totalPages": 2,
        "results": [],
        "meta": {
            "page": 5,
            "pageSize": 2,
            "count": 0,
            "totalCount": 3,
            "totalPages": 2,
            "continuation": "YWZ0ZXI6MQ",
        },
    }


def test_no_other_code_builds_an_envelope() -> None:
    """One list envelope: `totalPages` is written by `search/envelope.py` alone."""
    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "layers" / "core" / "portcullis").rglob("*.py")]
    sources += (root / "functions").rglob("*.py")
    builders = [
        str(path.relative_to(root)) for path in sources if '"totalPages"' in path.read_text()
    ]
    assert builders == ["layers/core/portcullis/search/envelope.py"]
