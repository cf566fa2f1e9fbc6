"""How every random secret is stored: API keys, link tokens, PKCE codes, refresh `jti`s.

They are long random values (≥ 122 bits), so a plain SHA-256 is enough to make a leaked
table useless and lets a presented secret be looked up by its digest in one read; slow
password hashing (argon2id) is for what people choose (passwords, 6-digit codes).
"""

from __future__ import annotations

import hashlib


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
