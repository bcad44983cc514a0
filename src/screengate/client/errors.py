"""What the server refused, as exceptions: the problem+json `code`, `reason`, `detail`, status."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

PROBLEM_JSON = "application/problem+json"


class ScreengateError(Exception):
    """The server answered with a problem (RFC 9457), or could not be heard from (status 0)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        reason: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title
        self.reason = reason
        # The whole problem, for the fields only some codes carry (limit, active, errors, ...).
        self.body: dict[str, Any] = body or {}

    def __repr__(self) -> str:
        reason = f", reason={self.reason!r}" if self.reason else ""
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}{reason})"


class SignedOutError(ScreengateError):
    """This device was signed out; `reason` says how (signed_out_remotely, password_changed...)."""


class TokenExpiredError(ScreengateError):
    pass


class InvalidTokenError(ScreengateError):
    pass


class InvalidCredentialsError(ScreengateError):
    pass


class TooManyAttemptsError(ScreengateError):
    """Too many failed sign-ins, or too many wrong PINs for a profile (`code` says which)."""

    @property
    def retry_after(self) -> int | None:
        value = self.body.get("retry_after")
        return int(value) if isinstance(value, int) else None


class TooManyStreamsError(ScreengateError):
    """ "Too many people are using your account": `active` lists who holds the screens."""

    @property
    def limit(self) -> int | None:
        value = self.body.get("limit")
        return value if isinstance(value, int) else None

    @property
    def active(self) -> list[dict[str, Any]]:
        value = self.body.get("active")
        return value if isinstance(value, list) else []


class StreamEndedError(ScreengateError):
    """A heartbeat found the stream over; `reason` says why (stopped_by_owner, expired...)."""


class NotFoundError(ScreengateError):
    pass


class ConnectionLostError(ScreengateError):
    """The event stream could not be (re)opened within the allowed attempts."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, "connection_lost", "The connection to the server was lost", detail)


_BY_CODE: dict[str, type[ScreengateError]] = {
    "signed_out": SignedOutError,
    "token_expired": TokenExpiredError,
    "invalid_token": InvalidTokenError,
    "invalid_credentials": InvalidCredentialsError,
    "too_many_attempts": TooManyAttemptsError,
    "too_many_pin_attempts": TooManyAttemptsError,
    "too_many_streams": TooManyStreamsError,
    "stream_ended": StreamEndedError,
}


class CodeSignInError(ScreengateError):
    """The code was denied (`access_denied`), ran out (`expired_token`) or is unknown: the
    `code` is RFC 8628's error word."""


def error_from(response: httpx.Response) -> ScreengateError:
    """The exception a non-2xx answer stands for; a body that is no problem still gets one."""
    body = _problem(response)
    code = str(body.get("code") or f"http_{response.status_code}")
    cls = _BY_CODE.get(code) or (NotFoundError if response.status_code == 404 else ScreengateError)
    detail = body.get("detail")
    reason = body.get("reason")
    return cls(
        response.status_code,
        code,
        str(body.get("title") or response.reason_phrase or "Error"),
        str(detail) if detail is not None else None,
        reason=str(reason) if reason is not None else None,
        body=body,
    )


def _problem(response: httpx.Response) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith((PROBLEM_JSON, "application/json")):
        return {}
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return {}
    return body if isinstance(body, dict) else {}
