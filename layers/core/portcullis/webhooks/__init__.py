"""Webhooks: target URL policy, signing secrets, signatures, and delivery with retries.
It may import `platform/`, `store/`, `tenancy/` and `tokens/`."""
# whconfig provides this (placeholder docstring; whconfig's version replaces it)
