"""The caller of a server-to-server route, read from the request Powertools is serving.

Apart from `access.callers` (which only resolves a credential) because it needs the REST
resolver: the non-HTTP functions that use `Caller` (the import worker's welcome emails)
would otherwise load Powertools' event handler on their cold start.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from portcullis.access.callers import Caller, authenticate
from portcullis.platform.errors import PortcullisError
from portcullis.platform.http import added_headers, header, source_ip
from portcullis.ratelimit import percredential


def api_caller(app: APIGatewayRestResolver) -> Caller:
    """The `Caller` of a server-to-server route (API key or admin access token), counted
    once per request in its per-credential buckets (api-server §6; 429 past them)."""
    test = (app.current_event.query_string_parameters or {}).get("test") == "true"
    caller = authenticate(header(app, "authorization"), source_ip(app), test_query=test)
    added = added_headers()
    if "X-RateLimit-Limit" not in added:
        route = app.current_event.resource or app.current_event.path
        search = route.rstrip("/").endswith("/find")
        try:
            added.update(percredential.take(caller, search=search))
        except PortcullisError as refused:
            added.update(refused.headers)
            raise
    return caller
