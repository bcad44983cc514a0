"""The account's security log: who signed in where, who signed out whom and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from screengate.domain.ids import AccountId, DeviceId, SessionId

Detail = dict[str, str | int | bool | None]


class EventKind(StrEnum):
    SIGNED_UP = "signed_up"
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGNED_OUT = "signed_out"
    PASSWORD_CHANGED = "password_changed"
    PLAN_CHANGED = "plan_changed"
    TOKEN_REUSE = "token_reuse_detected"
    PROFILE_CREATED = "profile_created"
    PROFILE_DELETED = "profile_deleted"
    SIGN_IN_UNLOCKED = "sign_in_unlocked"
    # A wrong PIN for a locked profile; and, once per pause, that PIN entry is paused.
    PIN_FAILED = "pin_failed"
    PIN_ATTEMPTS_EXCEEDED = "pin_attempts_exceeded"
    # A signed-in device gave a wrong account password (changing the password or a PIN).
    PASSWORD_CHECK_FAILED = "password_check_failed"
    # A profile's PIN was set, changed or removed.
    PROFILE_PIN_CHANGED = "profile_pin_changed"
    # The sign-out receipt: the device was told live, or came back and was refused.
    SIGN_OUT_TOLD = "sign_out_told"
    SIGN_OUT_CONFIRMED = "sign_out_confirmed"
    # Two-step sign-in and passkeys.
    TWO_STEP_ENABLED = "two_step_enabled"
    TWO_STEP_DISABLED = "two_step_disabled"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    RECOVERY_CODE_USED = "recovery_code_used"
    SECOND_FACTOR_FAILED = "second_factor_failed"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    # "Confirm it's you": a proof given, or refused.
    REAUTHENTICATED = "reauthenticated"
    REAUTH_FAILED = "reauth_failed"
    # Mail: each one sent (with its delivery state beside it), and the links in them.
    MAIL_QUEUED = "mail_queued"
    MAIL_LINK_OPENED = "mail_link_opened"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_SECURED = "account_secured"
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_CHANGED = "email_changed"
    # TV sign-in with a code: looked up on this account, approved (by which device, from
    # where), denied, expired unspent, voided by a sign-out of every device; and a temporary
    # sign-in's end moved.
    DEVICE_CODE_REQUESTED = "device_code_requested"
    DEVICE_CODE_APPROVED = "device_code_approved"
    DEVICE_CODE_DENIED = "device_code_denied"
    DEVICE_CODE_EXPIRED = "device_code_expired"
    DEVICE_CODE_VOIDED = "device_code_voided"
    SIGNED_IN_UNTIL_CHANGED = "signed_in_until_changed"


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    account_id: AccountId
    kind: EventKind
    at: datetime
    device_id: DeviceId | None = None
    device_name: str | None = None
    session_id: SessionId | None = None
    ip: str | None = None
    location: str | None = None
    detail: Detail = field(default_factory=dict)
    id: int | None = None
