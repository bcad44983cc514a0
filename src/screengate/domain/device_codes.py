"""Signing a TV in with a code (RFC 8628): the code it shows, what a poll is answered, and
how long a temporary sign-in may last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from screengate.domain.devices import DeviceType
from screengate.domain.errors import InvalidUntil
from screengate.domain.ids import AccountId, DeviceId, SessionId

# RFC 8628 §6.1: consonants only (no vowels, so no words), no look-alikes such as 0/O or 1/I.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8  # 20^8 ≈ 2.6e10 codes: ~34 bits of entropy


class AuthorizationStatus(StrEnum):
    # Shown on the TV, nobody has decided yet.
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    # The TV collected its tokens: the code is spent.
    REDEEMED = "redeemed"
    # A sign-out of every device (or a password change) came before the TV collected them.
    VOIDED = "voided"
    # Ran out of time before anyone decided or before the TV collected its tokens.
    EXPIRED = "expired"


class PollAnswer(StrEnum):
    """RFC 8628 §3.5's answers to a device's poll, and the one that hands it its tokens."""

    AUTHORIZATION_PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    ACCESS_DENIED = "access_denied"
    EXPIRED_TOKEN = "expired_token"
    # The code was already exchanged for tokens (RFC 6749 §5.2).
    INVALID_GRANT = "invalid_grant"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class DeviceCodePolicy:
    lifetime: timedelta = timedelta(minutes=10)
    # RFC 8628 §3.2: the least time between polls; slow_down adds 5 seconds each time.
    interval: timedelta = timedelta(seconds=5)
    # "Sign in until...": the shortest and the longest a temporary sign-in may be.
    min_temporary: timedelta = timedelta(minutes=15)
    max_temporary: timedelta = timedelta(days=30)

    def check_until(self, until: datetime, now: datetime) -> datetime:
        """A temporary sign-in's end, or InvalidUntil when it is too soon or too far away."""
        if until.tzinfo is None or until.utcoffset() is None:
            raise InvalidUntil("Give the time with its offset (RFC 3339), e.g. 2026-12-02T11:00Z.")
        if until < now + self.min_temporary:
            minutes = max(1, int(self.min_temporary.total_seconds() // 60))
            raise InvalidUntil(f"A temporary sign-in lasts at least {minutes} minutes.")
        if until > now + self.max_temporary:
            raise InvalidUntil(f"A temporary sign-in lasts at most {self.max_temporary.days} days.")
        return until


def normalise_user_code(text: str) -> str | None:
    """ "bcdf-ghjk", "BCDF GHJK" and "BCDFGHJK" are the same code; None for what cannot be one."""
    code = "".join(ch for ch in text.upper() if ch not in "- \t")
    if len(code) != USER_CODE_LENGTH or any(ch not in USER_CODE_ALPHABET for ch in code):
        return None
    return code


def shown(code: str) -> str:
    """As the TV shows it: XXXX-XXXX."""
    return f"{code[:4]}-{code[4:]}"


@dataclass(slots=True)
class DeviceAuthorization:
    """One code a device showed, from its request to its tokens (or its end)."""

    id: str
    device_code_hash: str
    user_code: str
    client_id: str
    device_type: DeviceType
    device_name: str
    requested_at: datetime
    expires_at: datetime
    interval_seconds: int
    ip: str | None = None
    location: str | None = None
    user_agent: str | None = None
    status: AuthorizationStatus = AuthorizationStatus.PENDING
    last_polled_at: datetime | None = None
    # The account that looked the code up (and then decided), and who decided, when, how long.
    account_id: AccountId | None = None
    decided_at: datetime | None = None
    decided_by_device_id: DeviceId | None = None
    signed_in_until: datetime | None = None
    # The device it becomes on the account (at approval) and its session (at redemption).
    device_id: DeviceId | None = None
    session_id: SessionId | None = None

    def has_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def open_to(self, account_id: AccountId, now: datetime) -> bool:
        """Can this account see and decide it: waiting, in time, not claimed by another one."""
        return (
            self.status is AuthorizationStatus.PENDING
            and not self.has_expired(now)
            and self.account_id in (None, account_id)
        )

    def poll(self, now: datetime, *, pace: bool = True) -> PollAnswer:
        """RFC 8628 §3.5. A device polling sooner than its interval is told to slow down, and
        its interval grows by 5 seconds from then on; `pace` False for the server's own TV page,
        which asks once, when it was told the code was decided."""
        last, self.last_polled_at = self.last_polled_at, now
        if pace and last is not None and now - last < timedelta(seconds=self.interval_seconds):
            self.interval_seconds += 5
            return PollAnswer.SLOW_DOWN
        match self.status:
            case AuthorizationStatus.REDEEMED:
                return PollAnswer.INVALID_GRANT
            case AuthorizationStatus.DENIED | AuthorizationStatus.VOIDED:
                return PollAnswer.ACCESS_DENIED
            case AuthorizationStatus.EXPIRED:
                return PollAnswer.EXPIRED_TOKEN
            case _ if self.has_expired(now):
                return PollAnswer.EXPIRED_TOKEN
            case AuthorizationStatus.APPROVED:
                return PollAnswer.APPROVED
        return PollAnswer.AUTHORIZATION_PENDING

    def decide(self, approve: bool, by: DeviceId, now: datetime, until: datetime | None) -> None:
        self.status = AuthorizationStatus.APPROVED if approve else AuthorizationStatus.DENIED
        self.decided_at = now
        self.decided_by_device_id = by
        self.signed_in_until = until if approve else None
