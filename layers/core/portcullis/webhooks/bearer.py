"""Placeholder of whconfig's webhook bearer key (recoverable webhook API keys).
whconfig provides this: deleted at the merge."""

# whconfig provides this

from __future__ import annotations


def bearer_key(mode: str, tenant_id: str) -> str | None:  # whconfig provides this
    return None
