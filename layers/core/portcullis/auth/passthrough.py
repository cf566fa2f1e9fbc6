"""Passthrough migration (concepts §7.2, §7.3; api-client §7.1, §7.3): a password log-in
of a user who has no local hash is checked by the tenant's old login service, and on
success the password is hashed here so that the old service is never asked again.

When: the user exists without a password hash (or is unknown and the tenant allows
`createOnPassthrough`), and passthrough is enabled for the tenant and mode. A user with
a hash never reaches the upstream. What the upstream answers:

- success (status rule, and the `passbackCode` when one is expected) → the argon2id
  hash of the password (no local policy check: the old system accepted it) and
  `passwordMigratedAt` are written with the session (`auth/completion`: MFA applies,
  and they wait for the second factor like a rehash does);
- a refusal (4xx, or a 2xx without the right `passbackCode`) → 400 with the upstream's
  message at `messagePath`, else `Incorrect email or password`; counted as a failed
  attempt like a wrong password;
- unreachable, timeout, redirect, 5xx, 408/429 → 502 `Unable to reach the login
  service` (api-client §7.3), and the attempt is refunded: the user did nothing wrong.

The generic upstream is called with httpx over `webhooks.transport.PinnedTransport`: the
URL is checked (mode rules, DNS, every address public) right before the call and the
connection goes to that address only, no redirects. The Cognito preset calls
`InitiateAuth` (USER_PASSWORD_AUTH, SECRET_HASH when the app client has a secret); its
tokens are dropped and never reach the client. The password is never logged, and is
stored only as the new hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from portcullis.auth import completion, identity, passthroughmetrics
from portcullis.auth.context import Request
from portcullis.auth.passthroughconfig import PLACEHOLDER, Stored, load
from portcullis.credentials import passwords
from portcullis.platform import aws, background
from portcullis.platform.digests import secret_digest
from portcullis.platform.errors import BadRequest, Forbidden, ServiceUnavailable
from portcullis.platform.timefmt import now_iso
from portcullis.ratelimit import spraying
from portcullis.sessions.tokenauth import USER_LOCKED
from portcullis.store import transactions
from portcullis.store.transactions import Update
from portcullis.store.users import UserItem
from portcullis.webhooks import targets

INCORRECT = "Incorrect email or password"
UNREACHABLE = "Unable to reach the login service"
COGNITO_INCORRECT = "Incorrect username or password."
MAX_RESPONSE_BYTES = 65_536
MAX_MESSAGE_LENGTH = 300
UNAVAILABLE_STATUSES = frozenset({408, 429})
USER_AGENT = "Portcullis-Passthrough/1"

log = logging.getLogger(__name__)


class Unreachable(Exception):
    """The upstream could not answer the question (the reason is for the log only)."""


@dataclass(frozen=True)
class Answer:
    """What the upstream said: accepted or not, the client-facing refusal message, and
    its JSON body (None: none or not JSON; never set for Cognito)."""

    accepted: bool
    message: str = INCORRECT
    body: Any = None


# ------------------------------------------------------------------ whether it applies


def start(req: Request, user: UserItem | None) -> Future[Stored | None] | None:
    """Start reading the tenant's passthrough settings when this log-in might use them
    (no user, or a user without a hash): the read runs while the password is checked
    against the dummy hash, so an unknown account answers as fast as before. None: a
    user with a hash never reaches the upstream, nothing is read."""
    if user is not None and user.passwordHash:
        return None
    return background.start(load, req.mode, req.tenant_id)


def applies(stored: Stored | None, user: UserItem | None, typed: str) -> bool:
    if stored is None or not stored.enabled:
        return False
    if user is not None:
        return not user.passwordHash
    if not stored.settings.get("createOnPassthrough"):
        return False
    return _new_identity(typed) is not None


def _new_identity(typed: str) -> dict[str, str] | None:
    """The identifier a user created on passthrough gets: an email address when one was
    typed, else a username (both by the sign-up rules); None if neither is valid."""
    try:
        if "@" in typed:
            return {"email": identity.email(typed)}
        identity.profile(username=typed)
    except BadRequest:
        return None
    return {"username": typed}


# ------------------------------------------------------------------ the log-in


def log_in(
    req: Request,
    stored: Stored,
    user: UserItem | None,
    typed: str,
    secret: str,
    refund: Update,
    *,
    migrate: bool,
) -> dict[str, Any]:
    """Ask the upstream (module docstring); on success sign in like a password would."""
    try:
        answer = ask(stored, user, typed, secret)
    except Unreachable as reason:
        log.warning(
            "passthrough upstream unavailable",
            extra={"tenantId": req.tenant_id, "mode": req.mode, "reason": str(reason)[:200]},
        )
        # Not the user's failure: the attempt is void (and counted as unavailable).
        unavailable = passthroughmetrics.tally(req.mode, req.tenant_id, "unavailable")
        transactions.commit([], [refund, unavailable])
        raise ServiceUnavailable(UNREACHABLE) from None
    outcome = "accepted" if answer.accepted else "refused"
    log.info("passthrough %s", outcome, extra={"tenantId": req.tenant_id, "mode": req.mode})
    if not answer.accepted:
        passthroughmetrics.record(req.mode, req.tenant_id, "refused")
        raise spraying.failed(req, BadRequest(answer.message))
    if user is not None and user.locked:
        passthroughmetrics.record(req.mode, req.tenant_id, None)  # an attempt, no outcome
        raise Forbidden(USER_LOCKED)
    # Counted in the sign-in's own write: the session's, or with MFA the first factor's
    # (an existing user's hash then waits for the second factor; a new user is written
    # whole, hash included, with its first-factor token). Never counted apart, so a
    # migration is counted exactly when its write lands.
    counted = passthroughmetrics.tally(req.mode, req.tenant_id, "migrated")
    migrated = {"passwordHash": passwords.hash_password(secret), "passwordMigratedAt": now_iso()}
    if user is None:
        fields = _new_identity(typed) or {}
        created = identity.new_user(
            req, email_address=fields.get("email"), fields={"username": fields.get("username")}
        )
        for name, value in migrated.items():
            setattr(created, name, value)
        verified = completion.Verified(
            created, completion.PASSWORD, created=True, updates=[counted]
        )
    else:
        verified = completion.Verified(
            user,
            completion.PASSWORD,
            updates=[refund, spraying.guard(req), counted],
            # Written only if the user still has no hash: a password set meanwhile (a
            # reset) is never overwritten by the migrated one.
            expect={"passwordHash": None},
            conflict=BadRequest(INCORRECT),
            explain_conflict=lambda: spraying.refuse_if_exhausted(req),
        )
        verified.touch(**migrated)
    body = completion.finish(req, verified).body
    # On every answer of a migrated log-in: tokens (§1.4), "MFA required" (§1.5) and
    # the PKCE code (§1.6) alike (api-client §7.3). Never Cognito's (its tokens).
    show = migrate and stored.settings.get("returnUpstreamResponse") and not stored.is_cognito
    if show and answer.body is not None:
        body["upstreamResponse"] = answer.body
    return body


# ------------------------------------------------------------------ the upstream


def ask(stored: Stored, user: UserItem | None, typed: str, secret: str) -> Answer:
    """One upstream check of `secret` for the account `typed` names; Unreachable when
    the upstream gave no usable answer."""
    if stored.is_cognito:
        return _ask_cognito(stored, typed, secret)
    return _ask_http(stored, user, typed, secret)


def values(stored: Stored, user: UserItem | None, typed: str, secret: str) -> dict[str, str]:
    """The placeholder values of the body template."""
    email = (user.email if user else None) or (typed.lower() if "@" in typed else "")
    username = (user.username if user else None) or ("" if "@" in typed else typed)
    code = stored.open_secrets().get("passthroughCode") or ""
    return {
        "email": email,
        "username": username,
        "emailOrUsername": typed,
        "password": secret,
        "passthroughCode": code,
    }


def render(template: Any, filled: Mapping[str, str]) -> Any:
    """The template with every `{{name}}` replaced in its strings. Values are inserted
    as text into the JSON structure (never into JSON source), so they need no escaping
    and cannot change the document's shape."""
    if isinstance(template, dict):
        return {key: render(value, filled) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, filled) for value in template]
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: filled.get(m.group(1), ""), template)
    return template


def _ask_http(stored: Stored, user: UserItem | None, typed: str, secret: str) -> Answer:
    import httpx

    from portcullis.webhooks.transport import PinnedTransport

    settings = stored.settings
    url = str(settings["url"])
    seconds = int(settings["timeoutMs"]) / 1000
    started = time.monotonic()
    try:
        addresses = targets.resolve(url, stored.mode, timeout=seconds)
    except targets.TargetRefused as error:
        raise Unreachable(f"refused: {error}") from None
    document = render(settings["bodyTemplate"], values(stored, user, typed, secret))
    # identity: the answer is read raw (bounded), never decompressed (no zip bomb).
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    headers["Accept-Encoding"] = "identity"
    headers.update(stored.open_secrets().get("headers") or {})
    if settings["bodyFormat"] == "form":
        content = urlencode(document).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        content = json.dumps(document).encode()
        headers["Content-Type"] = "application/json"
    remaining = max(0.05, seconds - (time.monotonic() - started))
    try:
        with (
            httpx.Client(
                transport=PinnedTransport(str(addresses[0])),
                timeout=httpx.Timeout(remaining),
                follow_redirects=False,
                trust_env=False,
            ) as client,
            client.stream(settings["method"], url, content=content, headers=headers) as response,
        ):
            raw = bytearray()
            for chunk in response.iter_raw():
                raw.extend(chunk)
                if len(raw) > MAX_RESPONSE_BYTES:
                    break
                if time.monotonic() - started > seconds:
                    raise Unreachable("timed out reading the answer")
            status = response.status_code
    except httpx.HTTPError as error:
        raise Unreachable(type(error).__name__) from None
    return _judge(stored, status, bytes(raw))


def _json(raw: bytes) -> Any:
    if not raw or len(raw) > MAX_RESPONSE_BYTES:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _judge(stored: Stored, status: int, raw: bytes) -> Answer:
    settings = stored.settings
    if status >= 500 or status in UNAVAILABLE_STATUSES or 300 <= status < 400 or status < 200:
        raise Unreachable(f"status {status}")
    body = _json(raw)
    wanted = settings.get("successStatus")
    success = status in wanted if wanted else 200 <= status < 300
    if not success:
        return Answer(False, _message(body, str(settings.get("messagePath") or "message")), body)
    if stored.passback_digest is not None:
        given = body.get("passbackCode") if isinstance(body, dict) else None
        presented = secret_digest(given) if isinstance(given, str) else ""
        if not hmac.compare_digest(presented, stored.passback_digest):
            return Answer(False, INCORRECT, body)
    return Answer(True, body=body)


def _message(body: Any, path: str) -> str:
    """The string at `path` (dots between names) in the upstream's JSON, made safe to
    show, else the wrong-password message."""
    node = body
    for name in path.split("."):
        node = node.get(name) if isinstance(node, dict) else None
    if not isinstance(node, str):
        return INCORRECT
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in node).split())
    return text[:MAX_MESSAGE_LENGTH] or INCORRECT


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """Cognito's SECRET_HASH: Base64(HMAC-SHA256(clientSecret, username + clientId))."""
    digest = hmac.new(
        client_secret.encode(), (username + client_id).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def _ask_cognito(stored: Stored, typed: str, secret: str) -> Answer:
    cognito = stored.settings["cognito"]
    client_secret = stored.open_secrets().get("clientSecret")
    parameters = {"USERNAME": typed, "PASSWORD": secret}
    if client_secret:
        parameters["SECRET_HASH"] = secret_hash(typed, cognito["clientId"], client_secret)
    client = aws.regional_client(
        "cognito-idp",
        cognito["region"],
        endpoint=cognito.get("endpoint"),
        timeout_seconds=int(stored.settings["timeoutMs"]) / 1000,
    )
    try:
        answer = client.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH", ClientId=cognito["clientId"], AuthParameters=parameters
        )
    except Exception as error:
        failed = aws.failure(error)
        if failed is None:
            raise
        code, text = failed
        if code == "NotAuthorizedException":
            return Answer(False, _message({"message": text}, "message"))
        if code in ("UserNotFoundException", "PasswordResetRequiredException"):
            # Cognito's own wording when it hides whether the user exists.
            return Answer(False, COGNITO_INCORRECT)
        if code == "UserNotConfirmedException":
            return Answer(False, INCORRECT)
        raise Unreachable(f"cognito {code or text}") from None
    if answer.get("AuthenticationResult"):
        return Answer(True)
    challenge = answer.get("ChallengeName")
    if challenge and challenge != "NEW_PASSWORD_REQUIRED":
        return Answer(True)  # e.g. SOFTWARE_TOKEN_MFA: the password was right
    return Answer(False, INCORRECT)
