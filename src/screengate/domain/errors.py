"""Domain errors. Each has a stable `code`; the API maps them to HTTP in one place."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    title: ClassVar[str] = "The request could not be completed"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class EmailTaken(DomainError):
    code = "email_taken"
    title = "An account with this email already exists"


class WeakPassword(DomainError):
    code = "weak_password"
    title = "Choose a stronger password"


class InvalidEmail(DomainError):
    code = "invalid_email"
    title = "That does not look like an email address"


class UnknownPlan(DomainError):
    code = "unknown_plan"
    title = "There is no such plan"


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    title = "Incorrect email or password"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    title = "Too many sign-in attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many sign-in attempts. Try again in {retry_after_seconds} seconds.",
            retry_after=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


class ServerBusy(DomainError):
    """Every place for password (or PIN) hashing on this instance is taken, its short queue
    too: the work is refused at once instead of slowing every sign-in down."""

    code = "server_busy"
    title = "The server is busy"

    def __init__(self, retry_after_seconds: int = 1) -> None:
        super().__init__(
            f"The server is busy. Try again in {wait_in_words(retry_after_seconds)}.",
            retry_after=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


class TooManyCodeAttempts(TooManyAttempts):
    """Too many wrong TV codes from this account or this address."""

    title = "Too many wrong codes"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds)
        self.detail = f"Too many wrong codes. Try again in {wait_in_words(retry_after_seconds)}."
        self.args = (self.detail,)


class CodeNotFound(DomainError):
    code = "code_not_found"
    title = "No TV is waiting for that code"

    def __init__(self) -> None:
        super().__init__(
            "That code is not right, or it was already used or has expired. "
            "Check the code on the TV and try again."
        )


class InvalidUntil(DomainError):
    code = "invalid_until"
    title = "That end time cannot be used for a temporary sign-in"


class DeviceFlowError(DomainError):
    """A device's poll or request answered with an OAuth error (RFC 8628 §3.5, RFC 6749
    §5.2): `error` is the wire's own word, not one of our problem codes."""

    code = "device_flow_error"

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(description or error)
        self.error = error
        self.description = description


class InvalidToken(DomainError):
    code = "invalid_token"
    title = "The credential is missing, malformed or unknown"


class TokenExpired(DomainError):
    code = "token_expired"
    title = "The access token has expired; refresh it"


class SignedOut(DomainError):
    code = "signed_out"
    title = "This device has been signed out"

    def __init__(self, reason: str, at: datetime | None) -> None:
        super().__init__(
            _SIGNED_OUT_DETAIL.get(reason, "This device has been signed out."),
            reason=reason,
            signed_out_at=at.isoformat().replace("+00:00", "Z") if at else None,
        )
        self.reason = reason


_SIGNED_OUT_DETAIL = {
    "signed_out_here": "You signed out on this device.",
    "signed_out_remotely": "You were signed out from another device.",
    "signed_out_everywhere": "You were signed out because someone chose Sign out of all devices.",
    "password_changed": "You were signed out because the account password was changed.",
    "expired": "Your session expired. Please sign in again.",
    "token_reuse": "You were signed out because this device's credentials were used twice.",
    "operator": "You were signed out by customer support.",
    "password_reset": "You were signed out because the account password was reset.",
    "account_secured": "You were signed out because the account owner secured the account.",
    "temporary_access_ended": "The time this device was signed in for has ended.",
}


class InvalidLink(DomainError):
    """A mailed link's token that is unknown, used, expired or for something else."""

    code = "invalid_token"
    title = "This link is not valid any more"

    def __init__(self) -> None:
        super().__init__(
            "This link has expired or has already been used. Ask for a new one.", field="token"
        )


class PasswordResetRequired(DomainError):
    code = "password_reset_required"
    title = "Reset the password to sign in"

    def __init__(self) -> None:
        super().__init__(
            "The account was secured after a sign-in its owner did not recognise. "
            "Use the link we emailed, or Forgot password?, to choose a new password."
        )


class TooManyMailRequests(TooManyAttempts):
    """Too many password-reset mails asked for this email or from this address."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds)
        self.detail = f"Too many requests. Try again in {wait_in_words(retry_after_seconds)}."
        self.args = (self.detail,)


class WrongPassword(DomainError):
    code = "wrong_password"
    title = "The current password is not correct"


class DeviceNotFound(DomainError):
    code = "device_not_found"
    title = "No signed-in device with that id on this account"


class DeviceLimit(DomainError):
    """The account is signed in on as many devices as it may be: one must be signed out first."""

    code = "device_limit"
    title = "This account is signed in on too many devices"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This account is signed in on {limit} devices, the most it may be. Sign one of them "
            "out (Account, Manage access and devices), then sign in here.",
            limit=limit,
        )
        self.limit = limit


class ProfileNotFound(DomainError):
    code = "profile_not_found"
    title = "No profile with that id on this account"


class ProfileLimit(DomainError):
    code = "profile_limit"
    title = "This account already has the most profiles it can have"


class ProfileNameTaken(DomainError):
    code = "profile_name_taken"
    title = "Another profile already has that name"


class LastProfile(DomainError):
    code = "last_profile"
    title = "An account keeps at least one profile"


class InvalidProfile(DomainError):
    code = "invalid_profile"
    title = "The profile is not valid"


class AccountNotFound(DomainError):
    code = "account_not_found"
    title = "No account with that email"


class TitleNotFound(DomainError):
    code = "title_not_found"
    title = "There is no such title in the catalogue"


class NotForKids(DomainError):
    code = "not_for_kids"
    title = "This title is not available on a kids profile"


class ProfileLocked(DomainError):
    code = "profile_locked"
    title = "This profile is locked; enter its PIN"


class TooManyPinAttempts(DomainError):
    """Too many wrong PINs for this profile (from any device) or on this device: no PIN is
    tried, the right one neither, until the count's window moves on."""

    code = "too_many_pin_attempts"
    title = "Too many wrong PINs"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many wrong PINs. Try again in {wait_in_words(retry_after_seconds)}.",
            retry_after=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


class TooManyEventStreams(DomainError):
    """This client address holds every event stream place it may on this instance."""

    code = "too_many_event_streams"
    title = "Too many event streams are open from this address"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "Too many event streams are open from this address. Close one, or try again in "
            f"{wait_in_words(retry_after_seconds)}.",
            retry_after=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


def wait_in_words(seconds: int) -> str:
    """How long to wait, as a person says it, rounded up: "45 seconds", "14 minutes", "3 hours"."""
    if seconds < 60:
        return _plural(max(seconds, 1), "second")
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return _plural(minutes, "minute")
    return _plural(math.ceil(minutes / 60), "hour")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'s' if count != 1 else ''}"


class TooManyStreams(DomainError):
    code = "too_many_streams"
    title = "Too many people are using your account right now"

    def __init__(self, limit: int, active: list[dict[str, str | None]]) -> None:
        super().__init__(
            f"Your plan allows {limit} screen{'s' if limit != 1 else ''} at a time. "
            "Stop playback on one of them to watch here.",
            limit=limit,
            active=active,
        )


class StreamNotFound(DomainError):
    code = "stream_not_found"
    title = "No stream with that id on this account"


class StreamEnded(DomainError):
    code = "stream_ended"
    title = "This stream has ended"

    def __init__(self, reason: str) -> None:
        super().__init__(_STREAM_ENDED_DETAIL.get(reason, "Playback has ended."), reason=reason)
        self.reason = reason


_STREAM_ENDED_DETAIL = {
    "stopped": "Playback was stopped on this device.",
    "stopped_by_owner": "Playback was stopped from another device on the account.",
    "replaced": "This device started playing something else.",
    "expired": "Playback stopped because this device stopped checking in.",
    **_SIGNED_OUT_DETAIL,
}


class DownloadDeviceLimit(DomainError):
    code = "download_device_limit"
    title = "Downloads are already on the most devices your plan allows"

    def __init__(self, limit: int, devices: list[dict[str, str | int]]) -> None:
        super().__init__(
            f"Your plan allows downloads on {limit} device{'s' if limit != 1 else ''}. "
            "Delete the downloads on one of them to download here.",
            limit=limit,
            devices=devices,
        )


class DeviceDownloadLimit(DomainError):
    code = "device_download_limit"
    title = "This device has as many downloads as your plan allows"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Your plan allows {limit} downloads on one device. Delete one to download another.",
            limit=limit,
        )


class DownloadNotFound(DomainError):
    code = "download_not_found"
    title = "No download with that id on this device"


class InvalidCode(DomainError):
    """A wrong authenticator or recovery code where no sign-in is at stake (enrolment)."""

    code = "invalid_code"
    title = "That code is not right"


class WrongSecondFactor(InvalidCode):
    """A wrong code at the second step of a sign-in (401, like a wrong password)."""


class SecondFactorRequired(DomainError):
    code = "second_factor_required"
    title = "Two-step sign-in is on: finish with a code or a passkey"

    def __init__(self, challenge: str, methods: list[str], expires_in: int) -> None:
        super().__init__(
            "The password is right. Enter the code from your authenticator app, a recovery "
            "code, or use a passkey.",
            challenge=challenge,
            methods=methods,
            expires_in=expires_in,
        )
        self.challenge = challenge
        self.methods = methods


class InvalidChallenge(DomainError):
    code = "invalid_challenge"
    title = "That sign-in has expired or was already finished; start again with the password"


class ReauthRequired(DomainError):
    code = "reauth_required"
    title = "Confirm it's you"

    def __init__(self, methods: list[str] | None = None) -> None:
        super().__init__(
            "For this change, confirm it's you: enter your password (or a code, or use a "
            "passkey) first.",
            methods=methods or ["password"],
        )


class TwoStepAlreadyOn(DomainError):
    code = "two_step_already_on"
    title = "Two-step sign-in is already on; turn it off first to use another app"


class TwoStepOff(DomainError):
    code = "two_step_off"
    title = "Two-step sign-in is off"


class NoPendingEnrolment(DomainError):
    code = "no_pending_enrolment"
    title = "Start setting up the authenticator app first"


class PasskeyNotFound(DomainError):
    code = "passkey_not_found"
    title = "No passkey with that id on this account"


class InvalidPasskey(DomainError):
    code = "invalid_passkey"
    title = "The passkey's answer could not be verified"
