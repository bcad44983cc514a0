"""What the API answers, typed; fields the server adds later are ignored, not refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from msgspec import Struct

DeviceType = Literal[
    "phone", "tablet", "pc_app", "web_browser", "smart_tv", "streaming_stick", "game_console"
]


@dataclass(frozen=True)
class Tokens:
    """A signed-in device's credentials. The secrets stay out of repr() and so out of logs."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    # When to refresh it: a little before the access token lapses (epoch seconds, this machine).
    refresh_at: float
    session_id: str
    device_id: str
    # Given at sign-in: sent back with device_id at the next sign-in, to stay this device.
    # A refresh gives none, and the one from the sign-in is kept.
    device_secret: str | None = field(default=None, repr=False)


class SignedUp(Struct, frozen=True):
    account_id: str
    email: str
    plan: str


class CodeOffer(Struct, frozen=True):
    """RFC 8628 §3.2: what a device shows (the user code, where to enter it) and polls with."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class TokenAnswer(Struct, frozen=True):
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str
    device_id: str
    device_secret: str | None = None

    def __repr__(self) -> str:
        return f"TokenAnswer(session_id={self.session_id!r}, device_id={self.device_id!r})"


class Plan(Struct, frozen=True):
    name: str
    max_streams: int
    max_download_devices: int
    max_downloads_per_device: int


class Profile(Struct, frozen=True):
    profile_id: str
    name: str
    kids: bool
    locked: bool


class Account(Struct, frozen=True):
    account_id: str
    email: str
    plan: Plan
    profiles: list[Profile]


class LastActivity(Struct, frozen=True):
    at: datetime
    profile_id: str
    profile_name: str | None
    title_id: str


class Device(Struct, frozen=True):
    """One row of "Manage access and devices"; `current` marks the device asking."""

    device_id: str
    session_id: str
    name: str
    type: str
    current: bool
    signed_in_at: datetime
    last_seen_at: datetime
    location: str | None
    last_activity: LastActivity | None
    streaming: bool
    downloads: int


class SignedOutDevice(Struct, frozen=True):
    device_id: str
    name: str
    # Told live on its open event stream before the answer came back.
    notified: bool


class StreamStarted(Struct, frozen=True):
    stream_id: str
    heartbeat_interval: int  # seconds
    expires_at: datetime
    title_id: str
    profile_id: str


class Lease(Struct, frozen=True):
    expires_at: datetime


class ActiveStream(Struct, frozen=True):
    """A taken screen, as "Too many people are using your account" lists it."""

    stream_id: str
    device_id: str
    device_name: str | None
    device_type: str | None
    profile_name: str | None
    title_id: str
    started_at: datetime
    current: bool


class Download(Struct, frozen=True):
    download_id: str
    profile_id: str
    title_id: str
    created_at: datetime
    expires_at: datetime


class _SignedOutDevices(Struct, frozen=True):
    signed_out: list[str]


class _SignedOutEverywhere(Struct, frozen=True):
    signed_out: list[SignedOutDevice]
