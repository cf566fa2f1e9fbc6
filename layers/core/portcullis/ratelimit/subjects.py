"""What a limiter needs to know of the request it counts, as structural types: the flow
context of the client API (`auth.context.Request`) and the server API's caller
(`access.callers.Caller`) both fit, and neither package has to be imported here (both sit
above `ratelimit/`)."""

from __future__ import annotations

from typing import Protocol

from portcullis.tenancy.settings import RateLimits


class ClientRequest(Protocol):
    """A tenant-scoped request of the client API, with its tenant's effective limits."""

    @property
    def mode(self) -> str: ...

    @property
    def tenant_id(self) -> str: ...

    @property
    def ip(self) -> str: ...

    @property
    def limits(self) -> RateLimits: ...


class CredentialHolder(Protocol):
    """A server-API caller: the credential its requests are counted against."""

    @property
    def mode(self) -> str: ...

    @property
    def tenant_id(self) -> str: ...

    @property
    def credential(self) -> str: ...
