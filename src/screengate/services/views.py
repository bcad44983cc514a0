"""What the use cases answer with: read models shaped for the screens, not the tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from screengate.domain.accounts import Account
from screengate.domain.devices import DeviceType
from screengate.domain.events import SecurityEvent
from screengate.domain.ids import DeviceId, ProfileId, SessionId
from screengate.domain.plans import Plan
from screengate.domain.profiles import Profile
from screengate.domain.sessions import SignOut


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    plan: Plan
    profiles: list[Profile]


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


@dataclass(frozen=True, slots=True)
class SignedOutDevice:
    device_id: DeviceId
    name: str
    notified: bool


@dataclass(frozen=True, slots=True)
class SignOutReceipt:
    sign_out: SignOut
    devices: list[SignedOutDevice]


@dataclass(frozen=True, slots=True)
class ActivityPage:
    events: list[SecurityEvent]
    next_cursor: int | None
