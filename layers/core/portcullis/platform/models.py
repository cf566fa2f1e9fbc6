"""The pydantic configurations every core model uses, in one place.

All of them set `defer_build=True` (pydantic's documented option): a model's validator
and serializer are built when it first validates, dumps or is instantiated, not when its
module is imported. A cold start then pays only for the models its first request uses
(docs/performance.md "Cold start"); validation is the same either way. A model instance
used as a class-level default is built at import all the same (instantiating builds it):
give such fields `Field(default_factory=...)` to keep them deferred.
"""

from __future__ import annotations

from pydantic import ConfigDict

# Stored documents, settings and request bodies: no coercion, no unknown fields.
STRICT = ConfigDict(strict=True, extra="forbid", defer_build=True)
# Request bodies whose unknown fields the reference ignores (the auth routes).
LENIENT = ConfigDict(strict=True, extra="ignore", defer_build=True)
# Response shapes (documentation and serialisation, never a gate on input).
OPEN = ConfigDict(extra="allow", defer_build=True)
