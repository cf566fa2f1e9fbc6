"""TOTP authenticator secrets and backup codes (api-client §7.8, §7.9, §9.5; concepts §10.4).

RFC 6238 with pyotp: HMAC-SHA1, 6 digits, 30-second steps, the current step ±1
accepted. `matching_step` answers WHICH step a code belongs to, so the caller can refuse
a step that was already used (RFC 6238 §5.2: no second use of a step, nor of an earlier
one). The QR code is drawn by segno (a maintained pure-Python QR library).

Backup codes are ten `xxxxx-xxxxx` lowercase hex codes (40 bits each). Their digests
are HMAC-SHA256 keyed with the user's TOTP secret, which is itself only stored
KMS-encrypted: a table dump alone cannot be brute-forced for the 2^40 candidates, which
a plain hash would give away in minutes. Comparison is by digest membership, exact and
constant-time per candidate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
import time
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    import pyotp

DIGITS = 6
STEP_SECONDS = 30
WINDOW_STEPS = 1
SECRET_BYTES = 20  # 160 bits: 32 base32 characters
BACKUP_CODE_COUNT = 10
INVALID_TOTP = "Invalid TOTP code"
INVALID_BACKUP = "Invalid backup code"
_CODE_SHAPE = re.compile(r"^[0-9]{6}$")
_BACKUP_SHAPE = re.compile(r"^[0-9a-f]{5}-?[0-9a-f]{5}$")


def new_secret() -> str:
    """A fresh 160-bit secret, base32 without padding (what authenticator apps read)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def provisioning_uri(secret: str, issuer: str, account: str) -> str:
    """`otpauth://totp/{issuer}:{account}?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`."""
    label = f"{quote(issuer, safe='')}:{quote(account, safe='@')}"
    query = (
        f"secret={secret}&issuer={quote(issuer, safe='')}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
    return f"otpauth://totp/{label}?{query}"


def qr_data_url(uri: str) -> str:
    """The URI as a PNG `data:` URL that can go straight into `<img src>`."""
    import segno  # drawn only when a user sets up TOTP; not on any sign-in path

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="png", scale=5, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def step_at(at: float) -> int:
    return int(at) // STEP_SECONDS


def _totp(secret: str) -> pyotp.TOTP:
    """pyotp is imported on first use (like segno): the auth function serves every
    sign-in, and only TOTP log-ins need it (~20 ms of a cold start otherwise)."""
    import pyotp

    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step (current ±1) whose code `code` is, or None. All three candidates are
    computed and compared in constant time, so the answer's timing says nothing."""
    candidate = code.strip().replace(" ", "")
    if _CODE_SHAPE.match(candidate) is None:
        return None
    totp = _totp(secret)
    now_step = step_at(time.time() if at is None else at)
    found = None
    for step in range(now_step - WINDOW_STEPS, now_step + WINDOW_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), candidate):
            found = step
    return found


def code_at(secret: str, at: float) -> str:
    """The code an authenticator shows at `at` (tests and the local demo)."""
    return str(_totp(secret).at(int(at)))


def new_backup_codes(count: int = BACKUP_CODE_COUNT) -> list[str]:
    codes = []
    for _ in range(count):
        text = secrets.token_hex(5)
        codes.append(f"{text[:5]}-{text[5:]}")
    return codes


def normalise_backup_code(code: str) -> str | None:
    """Lowercased, spaces removed, with its dash; None when it cannot be a backup code."""
    candidate = code.strip().lower().replace(" ", "")
    if not _BACKUP_SHAPE.match(candidate):
        return None
    bare = candidate.replace("-", "")
    return f"{bare[:5]}-{bare[5:]}"


def backup_digest(secret: str, code: str) -> str:
    """The stored form of a (normalised) backup code, keyed with the user's secret."""
    key = hashlib.sha256(b"portcullis-backup-code:" + secret.encode("ascii")).digest()
    return hmac.new(key, code.encode("ascii"), hashlib.sha256).hexdigest()
