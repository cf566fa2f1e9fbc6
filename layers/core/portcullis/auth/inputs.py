"""The request bodies of the client API's auth endpoints (api-client §6–§8, §9.3,
§9.9–9.10, §7.11), in one place: `functions/auth` validates them and hands them to the
flows (`password.sign_up`, `link.send`, `code`, `verify`), which read their fields.

They ignore unknown fields (the client sends `options`, `linkType`... that older servers
did not know) and treat `null` as absent (§0.2). Every body may carry the legacy
`tenantId` (§0.1) and the client's `options`. Shapes only: what a value must look like
(an e-mail, a password) is judged by the flows, which know the tenant's settings.

No `from __future__ import annotations` here: with real annotations pydantic has no
strings to evaluate when each model class is built, every cold start.
"""

from typing import Any

from pydantic import BaseModel

from portcullis.platform.models import LENIENT as _LENIENT


class Options(BaseModel):
    model_config = _LENIENT
    noSignupEmail: bool | None = None
    noResetEmail: bool | None = None
    redirect: str | None = None


class Body(BaseModel):
    """Fields every endpoint may carry: the legacy tenant id and the client's options."""

    model_config = _LENIENT
    tenantId: str | None = None
    options: Options | None = None

    def option(self, name: str) -> Any:
        return getattr(self.options, name) if self.options else None


class SignUp(Body):
    email: str | None = None
    password: str | None = None
    username: str | None = None
    name: str | None = None
    data: dict[str, Any] | None = None


class LogIn(Body):
    emailOrUsername: str | None = None
    email: str | None = None
    username: str | None = None
    password: str | None = None


class PasswordUpdate(Body):
    password: str | None = None
    existingPassword: str | None = None


class SendLink(Body):
    email: str | None = None
    name: str | None = None
    username: str | None = None
    data: dict[str, Any] | None = None


class LinkCredentials(Body):
    token: str | None = None
    uuid: str | None = None


class SendCode(Body):
    channel: str | None = None
    phoneNumber: str | None = None
    email: str | None = None
    name: str | None = None
    username: str | None = None
    data: dict[str, Any] | None = None


class CodeLogIn(Body):
    channel: str | None = None
    verificationCode: str | None = None
    phoneNumber: str | None = None
    email: str | None = None


class ResetLink(Body):
    email: str | None = None


class Reset(Body):
    uuid: str | None = None
    token: str | None = None
    password: str | None = None


class VerifyEmail(Body):
    email: str | None = None
    userId: int | None = None
    userUuid: str | None = None


class VerifyPhone(Body):
    phoneNumber: str | None = None
    userId: int | None = None
    userUuid: str | None = None


class PkceExchange(Body):
    authorizationCode: str | None = None
    codeVerifier: str | None = None


class TotpLogIn(Body):
    totpCode: str | None = None
    backupCode: str | None = None
    userId: int | None = None
    userUuid: str | None = None
    emailOrUsername: str | None = None
    email: str | None = None
    username: str | None = None
    phoneNumber: str | None = None


class TotpRemoval(Body):
    totpCode: str | None = None
    backupCode: str | None = None
