"""Streams: leases on the plan's simultaneous-stream slots, and the admission rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from screengate.domain.errors import StreamEnded
from screengate.domain.ids import AccountId, DeviceId, ProfileId, SessionId, StreamId
from screengate.domain.sessions import SignOutReason


class StreamEndReason(StrEnum):
    STOPPED = "stopped"
    STOPPED_BY_OWNER = "stopped_by_owner"
    REPLACED = "replaced"
    EXPIRED = "expired"
    SIGNED_OUT_HERE = "signed_out_here"
    SIGNED_OUT_REMOTELY = "signed_out_remotely"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    PASSWORD_CHANGED = "password_changed"
    TOKEN_REUSE = "token_reuse"
    OPERATOR = "operator"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_SECURED = "account_secured"
    # A "sign in until..." ran out (or its owner ended it early).
    TEMPORARY_ACCESS_ENDED = "temporary_access_ended"

    @classmethod
    def for_sign_out(cls, reason: SignOutReason) -> StreamEndReason:
        return cls(reason.value)


@dataclass(frozen=True, slots=True)
class StreamPolicy:
    heartbeat_interval: timedelta = timedelta(seconds=30)
    lease: timedelta = timedelta(seconds=90)

    def __post_init__(self) -> None:
        if not timedelta(0) < self.heartbeat_interval <= timedelta(seconds=30):
            raise ValueError("the heartbeat interval is at most 30 seconds")
        if not self.heartbeat_interval < self.lease <= timedelta(seconds=90):
            raise ValueError("a lease outlives one heartbeat interval and is at most 90 seconds")


@dataclass(slots=True)
class Stream:
    id: StreamId
    account_id: AccountId
    session_id: SessionId
    device_id: DeviceId
    profile_id: ProfileId
    title_id: str
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    end_reason: StreamEndReason | None = None

    def is_live(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at

    def end(self, reason: StreamEndReason, at: datetime) -> bool:
        """Stop it; the first reason sticks. True if this call ended it."""
        if self.ended_at is not None:
            return False
        self.ended_at = at
        self.end_reason = reason
        return True

    def renew(self, now: datetime, policy: StreamPolicy) -> None:
        if not self.is_live(now):
            raise StreamEnded(self.why_ended(now).value)
        self.expires_at = now + policy.lease

    def why_ended(self, now: datetime) -> StreamEndReason:
        if self.end_reason is not None:
            return self.end_reason
        return StreamEndReason.EXPIRED


def streams_to_replace(
    live: Iterable[Stream], *, session_id: SessionId, max_streams: int
) -> tuple[list[Stream], list[Stream]] | None:
    """The admission rule. A device plays one thing at a time, so its own stream is replaced;
    the others must leave a slot free. Returns (replaced, holders), or None when there is no slot.

    After a downgrade the others may already exceed the limit: nothing playing is stopped,
    and nothing new starts until the account is under the new limit.
    """
    own = [s for s in live if s.session_id == session_id]
    others = [s for s in live if s.session_id != session_id]
    if len(others) >= max_streams:
        return None
    return own, others
