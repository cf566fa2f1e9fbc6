"""What a limiter needs to know of the request it counts, as structural types: the flow
context of the client API (`auth.context.Request`) and the server API's caller
(`access.callers.Caller`) both fit, and neither package has to be imported here (both sit
above `ratelimit/`)."""

from __future__ import annotations

from typing import Protocol

from portcullis.tenancy.settings import RateLimits


class Scoped(Protocol):
    """Whatever is counted is counted within one tenant and mode."""

    @property
    def mode(self) -> str: ...

    @property
    def tenant_id(self) -> str: ...


class ClientRequest(Scoped, Protocol):
    """A tenant-scoped request of the client API, with its tenant's effective limits."""

    @property
    def ip(self) -> str: ...

    @property
    def limits(self) -> RateLimits: ...


class CredentialHolder(Scoped, Protocol):
    """A server-API caller: the credential its requests are counted against."""

    @property
    def credential(self) -> str: ...
