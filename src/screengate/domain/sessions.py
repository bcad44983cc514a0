"""Sessions (one signed-in device), the credentials they hold, and how they end."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from screengate.domain.ids import AccountId, DeviceId, DownloadId, SessionId, StreamId


class SignOutReason(StrEnum):
    SIGNED_OUT_HERE = "signed_out_here"
    SIGNED_OUT_REMOTELY = "signed_out_remotely"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    PASSWORD_CHANGED = "password_changed"
    EXPIRED = "expired"
    TOKEN_REUSE = "token_reuse"
    OPERATOR = "operator"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_SECURED = "account_secured"
    # A "sign in until..." ran out (or its owner ended it early).
    TEMPORARY_ACCESS_ENDED = "temporary_access_ended"


class ReceiptStatus(StrEnum):
    """A sign-out's receipt, per device."""

    # Told live on its open event stream.
    TOLD = "told"
    # Came back afterwards and was refused.
    CONFIRMED = "confirmed"
    # Not heard from since: it will be refused at its next contact.
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    access_ttl: timedelta = timedelta(minutes=15)
    # A device unheard of this long must sign in again (its refresh token stops working).
    idle_ttl: timedelta = timedelta(days=30)
    # And however active, after this long.
    absolute_ttl: timedelta = timedelta(days=365)
    # A browser's requests that left before its new cookies arrived still carry the refresh
    # token just spent: this long after, from the address that spent it, they are served
    # (and handed nothing); anything else presenting it is a replay.
    browser_refresh_leeway: timedelta = timedelta(seconds=5)
    # An account is signed in on at most this many devices at once; one more is refused.
    max_devices: int = 100
    # A session that ended (signed out, or lapsed unseen) is kept this long, then pruned.
    keep_ended: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        if not timedelta(seconds=1) <= self.access_ttl <= timedelta(minutes=15):
            raise ValueError("access tokens live between 1 second and 15 minutes")
        if not timedelta(0) <= self.browser_refresh_leeway <= timedelta(seconds=30):
            raise ValueError("the browser's refresh leeway is between 0 and 30 seconds")
        if self.max_devices < 1:
            raise ValueError("an account may be signed in on one device at least")


@dataclass(slots=True)
class Session:
    id: SessionId
    account_id: AccountId
    device_id: DeviceId
    created_at: datetime
    last_seen_at: datetime
    ip: str | None = None
    location: str | None = None
    signed_out_at: datetime | None = None
    sign_out_reason: SignOutReason | None = None
    # The sign-out receipt: told live on its event stream; refused when it came back.
    told_at: datetime | None = None
    confirmed_at: datetime | None = None
    # When the person on this device last proved who they are (signing in counts):
    # "confirm it's you" looks at it before changes to who can get in.
    proven_at: datetime | None = None
    # A temporary sign-in ("Sign in until..."): the hard end no refresh extends.
    signed_in_until: datetime | None = None

    @property
    def live(self) -> bool:
        return self.signed_out_at is None

    @property
    def receipt(self) -> ReceiptStatus | None:
        """How far the word of its sign-out got: None while the session is live."""
        if self.live:
            return None
        if self.confirmed_at is not None:
            return ReceiptStatus.CONFIRMED
        if self.told_at is not None:
            return ReceiptStatus.TOLD
        return ReceiptStatus.PENDING

    def has_lapsed(self, now: datetime, policy: SessionPolicy) -> bool:
        return (
            now - self.last_seen_at >= policy.idle_ttl
            or now - self.created_at >= policy.absolute_ttl
            or self.time_is_up(now)
        )

    def time_is_up(self, now: datetime) -> bool:
        """A temporary sign-in whose end has come."""
        return self.signed_in_until is not None and now >= self.signed_in_until

    def lapse_reason(self, now: datetime) -> SignOutReason:
        """Why a lapsed session ends: its temporary sign-in ran out, or it expired."""
        if self.time_is_up(now):
            return SignOutReason.TEMPORARY_ACCESS_ENDED
        return SignOutReason.EXPIRED

    def sign_out(self, reason: SignOutReason, at: datetime) -> bool:
        """End the session; the first reason sticks. True if this call ended it."""
        if not self.live:
            return False
        self.signed_out_at = at
        self.sign_out_reason = reason
        return True


def signed_in_devices(
    sessions: Iterable[Session], now: datetime, policy: SessionPolicy
) -> set[DeviceId]:
    """The devices these sessions keep signed in now: what the device limit counts."""
    return {s.device_id for s in sessions if s.live and not s.has_lapsed(now, policy)}


class CredentialKind(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(slots=True)
class Credential:
    """A token as the store keeps it: only its hash, never the token."""

    token_hash: str
    kind: CredentialKind
    session_id: SessionId
    account_id: AccountId
    device_id: DeviceId
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


def follows_its_refresh(
    spent: Credential, session: Session, ip: str | None, now: datetime, leeway: timedelta
) -> bool:
    """A refresh token presented again moments after it was spent, from the address that
    spent it (the session's address since): the same browser's request that set off before
    the new cookies arrived. Anything else presenting a spent token is a replay."""
    return (
        session.live
        and spent.kind is CredentialKind.REFRESH
        and spent.used_at is not None
        # Either way round: another instance, whose clock may run a little ahead, spent it.
        and abs(now - spent.used_at) <= leeway
        and ip is not None
        and ip == session.ip
    )


@dataclass(frozen=True, slots=True)
class Principal:
    """A device proven by a live access token."""

    account_id: AccountId
    device_id: DeviceId
    session_id: SessionId
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: SessionId
    device_id: DeviceId
    # Given at sign-in only (a refresh has none): the device sends it back with its id at its
    # next sign-in, to be that device again.
    device_secret: str | None = None


@dataclass(frozen=True, slots=True)
class SignOut:
    """The outcome of any sign-out: what the store ended, and what the bus tells everyone."""

    account_id: AccountId
    reason: SignOutReason
    at: datetime
    session_ids: tuple[SessionId, ...]
    device_ids: tuple[DeviceId, ...]
    # What the sign-out ended with them, in the same transaction (filled in by the service).
    stream_ids: tuple[StreamId, ...] = ()
    download_ids: tuple[DownloadId, ...] = ()


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast unsalted hash is enough to make a leaked
    # table useless; a slow hash would only slow every request down.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignOutScope:
    """Which live sessions of an account a sign-out ends: all of them (but `keep`, if
    given), one device's, or one session. Stores apply it as a filter, set-wise, so "Sign out
    of all devices" costs a few statements however many devices the account has."""

    account_id: AccountId
    session_id: SessionId | None = None
    device_id: DeviceId | None = None
    keep: SessionId | None = None

    def covers(self, session: Session) -> bool:
        return (
            session.live
            and session.account_id == self.account_id
            and self.session_id in (None, session.id)
            and self.device_id in (None, session.device_id)
            and session.id != self.keep
        )


@dataclass(frozen=True, slots=True)
class EndingSession:
    """A live session a sign-out is about to end, with what its receipt and log name it by."""

    session_id: SessionId
    device_id: DeviceId
    device_name: str | None
