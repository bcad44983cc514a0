"""Mail the account's owner gets, and the one-time links in it. No I/O, no clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from screengate.domain.ids import AccountId


class MailKind(StrEnum):
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    NEW_SIGN_IN = "new_sign_in"
    ACCOUNT_SECURED = "account_secured"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    EMAIL_CHANGE_CONFIRM = "email_change_confirm"
    EMAIL_CHANGED = "email_changed"
    # Who can get in changed: two-step on or off, recovery codes made or used, passkeys.
    SECURITY_CHANGED = "security_changed"


class DeliveryState(StrEnum):
    # Waiting for the sender (or for its next try, after a failure).
    PENDING = "pending"
    SENT = "sent"
    # Tried as often as the sender may: nobody will try again.
    FAILED = "failed"


@dataclass(slots=True)
class Message:
    """One mail in the outbox: written with the change that causes it, sent afterwards."""

    id: str
    to: str
    subject: str
    text: str
    html: str
    kind: MailKind
    created_at: datetime
    account_id: AccountId | None = None
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    # None: due at once. Set by the sender after a failed try (its own clock).
    next_attempt_at: datetime | None = None
    # A sender holds the message until then; past it, another may take it.
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None


class LinkPurpose(StrEnum):
    RESET_PASSWORD = "reset_password"
    SECURE_ACCOUNT = "secure_account"
    CONFIRM_EMAIL = "confirm_email"
    UNDO_EMAIL = "undo_email"


# How long each kind of mailed link works.
LINK_LIFETIMES = {
    LinkPurpose.RESET_PASSWORD: timedelta(hours=1),
    LinkPurpose.SECURE_ACCOUNT: timedelta(days=7),
    LinkPurpose.CONFIRM_EMAIL: timedelta(days=1),
    LinkPurpose.UNDO_EMAIL: timedelta(days=7),
}


@dataclass(slots=True)
class Link:
    """A mailed link's token, kept only as its hash; it works once, until it expires."""

    token_hash: str
    purpose: LinkPurpose
    account_id: AccountId
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    opened_at: datetime | None = None
    message_id: str | None = None
    # The new address (confirm_email) or the address to go back to (undo_email).
    email: str | None = None
    # The device a new sign-in alert is about: its type and name ("smart_tv/Living Room TV"),
    # since an app that keeps no device id is a new device at every sign-in.
    device_key: str | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the sender tries again while the mail server is unreachable, and when it stops."""

    first_delay: timedelta = timedelta(seconds=5)
    max_delay: timedelta = timedelta(minutes=10)
    max_attempts: int = 12

    def delay_after(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try: doubling, up to max_delay."""
        doubled: timedelta = self.first_delay * 2 ** max(attempts - 1, 0)
        return min(doubled, self.max_delay)

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


# Anything that could end a header line or smuggle another header in.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


def header_safe(text: str, limit: int = 120) -> str:
    """Text from a person (a device's name, a subject built from it) made fit for one header
    line: control characters, CR and LF above all, become one space."""
    return _UNSAFE.sub(" ", text).strip()[:limit]


def device_key(device_type: str, name: str) -> str:
    return f"{device_type}/{name}"[:200]
