"""What the use cases answer with: read models shaped for the screens, not the tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from screengate.domain.accounts import Account
from screengate.domain.devices import Device, DeviceType
from screengate.domain.events import SecurityEvent
from screengate.domain.ids import DeviceId, ProfileId, SessionId, StreamId
from screengate.domain.notices import Announcement
from screengate.domain.plans import Plan
from screengate.domain.profiles import Profile
from screengate.domain.sessions import ReceiptStatus, Session, SignOut


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    plan: Plan
    profiles: list[Profile]


@dataclass(frozen=True, slots=True)
class AccountDevices:
    """What "Manage access and devices" is drawn from, as read at one moment. Liveness of
    streams and downloads is judged when it is shown, from their expiry times."""

    sessions: list[Session]
    devices: dict[DeviceId, Device]
    profiles: dict[ProfileId, str]
    streams: list[tuple[SessionId, datetime]]
    downloads: list[tuple[SessionId, datetime]]


@dataclass(frozen=True, slots=True)
class LastActivity:
    at: datetime
    profile_id: ProfileId
    profile_name: str | None
    title_id: str


@dataclass(frozen=True, slots=True)
class DeviceView:
    device_id: DeviceId
    session_id: SessionId
    name: str
    type: DeviceType
    current: bool
    signed_in_at: datetime
    last_seen_at: datetime
    location: str | None
    last_activity: LastActivity | None
    streaming: bool
    downloads: int
    # A temporary sign-in's end ("Signed in until Tue 11:00"); None for "Keep signed in".
    signed_in_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class SignedOutView:
    """A device signed out lately, and how far the word of it got."""

    device_id: DeviceId
    session_id: SessionId
    name: str
    type: DeviceType
    signed_in_at: datetime
    signed_out_at: datetime
    reason: str
    receipt: ReceiptStatus
    told_at: datetime | None
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DevicePage:
    """A page of Manage access and devices; `next_cursor` is None on the last page."""

    devices: list[DeviceView]
    signed_out: list[SignedOutView]
    next_cursor: int | None


@dataclass(frozen=True, slots=True)
class SignedOutDevice:
    device_id: DeviceId
    name: str
    # Told live on its open event stream before the call returned.
    notified: bool
    session_id: SessionId


@dataclass(frozen=True, slots=True)
class SignOutReceipt:
    sign_out: SignOut
    devices: list[SignedOutDevice]
    announcement: Announcement
    # TV codes of the account the sign-out voided before their devices collected tokens.
    voided_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StreamHolder:
    """One taken screen, as "Too many people are using your account" shows it."""

    stream_id: StreamId
    device_id: DeviceId
    device_name: str | None
    device_type: str | None
    profile_name: str | None
    title_id: str
    started_at: datetime

    def as_problem(self) -> dict[str, str | None]:
        return {
            "stream_id": self.stream_id,
            "device_id": self.device_id,
            "device_name": self.device_name,
            "device_type": self.device_type,
            "profile_name": self.profile_name,
            "title_id": self.title_id,
            "started_at": self.started_at.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True, slots=True)
class ActivityPage:
    events: list[SecurityEvent]
    next_cursor: int | None
