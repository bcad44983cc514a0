"""What signed-in devices are told at once, and what the event bus carries between instances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from screengate.domain.ids import AccountId, DeviceId, SessionId

NoticeData = Mapping[str, str | list[str] | None]


class NoticeKind(StrEnum):
    SIGNED_OUT = "signed_out"
    STREAM_ENDED = "stream_ended"
    DOWNLOADS_REVOKED = "downloads_revoked"
    # Who can get in changed (two-step, passkeys, recovery codes): open pages show it.
    SECURITY_CHANGED = "security_changed"


@dataclass(frozen=True, slots=True)
class Notice:
    """One event for one signed-in device (its session), as its event stream sends it."""

    id: str
    kind: NoticeKind
    account_id: AccountId
    session_id: SessionId
    device_id: DeviceId
    at: datetime
    data: NoticeData = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Announcement:
    """Published after a use case commits: whose credentials died, and who must be told what."""

    id: str
    account_id: AccountId
    revoked: tuple[SessionId, ...] = ()
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """An instance's word that these sessions' devices were told of their sign-out, live."""

    announcement_id: str
    session_ids: tuple[SessionId, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class CodeDecided:
    """A TV code was decided ("approved", "denied") or voided: the TV showing it moves on."""

    authorization_id: str
    decision: str


BusMessage = Announcement | Delivery | CodeDecided
