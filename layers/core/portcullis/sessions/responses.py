"""The `responses=` of the session routes (functions/sessions, functions/self): references
to their answer models in `sessions.outputs` and `sessions.tokenset`, which only the
OpenAPI generator imports (`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

SESSION = answers("portcullis.sessions.outputs:Session")
OWN_SESSIONS = answers("portcullis.sessions.outputs:SessionResults")
SESSIONS = answers("portcullis.sessions.outputs:SessionPage")
ENDED = answers("portcullis.sessions.outputs:EndedDone")

# Refresh and log-out (functions/self).
REFRESHED = answers("portcullis.sessions.tokenset:Refreshed")
LOGGED_OUT = answers("portcullis.sessions.tokenset:LoggedOut")
