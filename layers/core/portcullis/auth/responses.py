"""The `responses=` of the client routes (functions/auth, functions/mode,
functions/passthrough): references to their answer models in `auth.outputs`, which only
the OpenAPI generator imports (`portcullis.platform.http.answers`, docs/openapi.md)."""

from __future__ import annotations

from portcullis.platform.http import answers

MODE = answers("portcullis.auth.outputs:ModeAnswer")
LOG_IN = answers("portcullis.auth.outputs:LogInAnswer")
SIGNED_IN = answers("portcullis.auth.outputs:SignedIn")
RECEIPT = answers("portcullis.auth.outputs:Receipt")
TOTP_SETUP = answers("portcullis.auth.outputs:TotpSetup")

# The passthrough settings and metrics (functions/passthrough).
PASSTHROUGH = answers("portcullis.auth.outputs:Passthrough")
PASSTHROUGH_METRICS = answers("portcullis.auth.outputs:PassthroughMetrics")
