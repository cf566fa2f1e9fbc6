"""The signed-in user's own account and sessions (api-client §9.1–9.2, §9.6–9.7, §10,
§13): everything here is authenticated by the user's own access or refresh token, and
the tenant and mode come from that token, never from the origin.

The account and session routes import `auth.selfservice` (users' writable fields, the
users service) when they run: refresh and log-out, which most cold starts serve, need
none of it.
"""

import gc

gc.disable()  # paused while the modules load; resumed where initialisation ends

from typing import Any

from portcullis.platform.bodies import json_body
from portcullis.platform.http import create_app, handler, header, source_ip
from portcullis.sessions import rotation, tokenauth
from portcullis.sessions.responses import LOGGED_OUT, OWN_SESSIONS, REFRESHED, SESSION
from portcullis.users.responses import USER

app = create_app()


def _authorization() -> str | None:
    return header(app, "authorization")


def _caller(*, with_user: bool = True) -> tokenauth.SignedIn:
    return tokenauth.authenticate(_authorization(), source_ip(app), with_user=with_user)


@app.get("/v0/self", responses=USER)
def read_self() -> dict[str, Any]:
    # Off the import path: refresh and log-out, the common requests, never use it.
    from portcullis.auth import selfservice

    return selfservice.read(_caller())


@app.put("/v0/self", responses=USER)
def update_self() -> dict[str, Any]:
    """The body is read by hand: its unknown fields get `"<field>" cannot be updated here`."""
    from portcullis.auth import selfservice  # as in read_self

    return selfservice.update(_caller(), json_body(app, default={}))


@app.get("/v0/auth/session", responses=SESSION)
def read_session() -> dict[str, Any]:
    from portcullis.auth import selfservice  # as in read_self

    return selfservice.session(_caller(with_user=False))


@app.get("/v0/auth/sessions", responses=OWN_SESSIONS)
def list_sessions() -> dict[str, Any]:
    from portcullis.auth import selfservice  # as in read_self

    return selfservice.session_list(_caller(with_user=False))


# Log out is a GET (api-client §10); POST is accepted too.
@app.route("/v0/auth/logout", ["GET", "POST"], responses=LOGGED_OUT)
def log_out() -> dict[str, Any]:
    return tokenauth.logout(_authorization(), source_ip(app))


@app.route("/v0/auth/logout/all", ["GET", "POST"], responses=LOGGED_OUT)
def log_out_all() -> dict[str, Any]:
    return tokenauth.logout_all(_authorization(), source_ip(app))


@app.get("/v0/auth/refresh", responses=REFRESHED)
def refresh() -> dict[str, Any]:
    """Exactly 200 on success: the client treats any other status as a failed refresh."""
    return rotation.refresh(_authorization(), source_ip(app))


lambda_handler = handler(app)

# Initialisation ends: freeze what it built out of the collector's generations for good,
# then resume collecting (docs/performance.md "The collector at initialisation").
gc.freeze()
gc.enable()
