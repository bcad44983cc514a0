"""Devices: whatever signed in, and what it last watched."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from screengate.domain.ids import AccountId, DeviceId, ProfileId
from screengate.domain.sessions import hash_token

MAX_DEVICE_NAME = 80
# Control characters count as spaces: never meant in a name, unsafe in a terminal, and
# PostgreSQL cannot store a NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class DeviceType(StrEnum):
    PHONE = "phone"
    TABLET = "tablet"
    PC_APP = "pc_app"
    WEB_BROWSER = "web_browser"
    SMART_TV = "smart_tv"
    STREAMING_STICK = "streaming_stick"
    GAME_CONSOLE = "game_console"


DEFAULT_DEVICE_NAMES = {
    DeviceType.PHONE: "Phone",
    DeviceType.TABLET: "Tablet",
    DeviceType.PC_APP: "PC app",
    DeviceType.WEB_BROWSER: "Web browser",
    DeviceType.SMART_TV: "Smart TV",
    DeviceType.STREAMING_STICK: "Streaming stick",
    DeviceType.GAME_CONSOLE: "Game console",
}

# What the log and a receipt call a device whose record is gone.
UNKNOWN_DEVICE = "Unknown device"


@dataclass(frozen=True, slots=True)
class Activity:
    """What "Manage access and devices" shows as a device's last watch."""

    at: datetime
    profile_id: ProfileId
    title_id: str


@dataclass(slots=True)
class Device:
    id: DeviceId
    account_id: AccountId
    type: DeviceType
    name: str
    created_at: datetime
    user_agent: str | None = None
    last_activity: Activity | None = None
    # The hash of the secret only this device holds (given at its last sign-in): what proves
    # that a sign-in sending this device's id comes from the device itself.
    secret_hash: str | None = None


def choose_device_name(given: str | None, from_user_agent: str | None, type_: DeviceType) -> str:
    """The client's own name wins; then one read from the User-Agent; then the type's name."""
    for candidate in (given, from_user_agent):
        if candidate and (name := " ".join(_CONTROL.sub(" ", candidate).split())[:MAX_DEVICE_NAME]):
            return name
    return DEFAULT_DEVICE_NAMES[type_]


def proves(device: Device, secret: str | None) -> bool:
    """Whether `secret` is the one this device was last given: only then does a sign-in that
    names the device get to be it (and be judged as the account's own device)."""
    if secret is None or device.secret_hash is None:
        return False
    return hmac.compare_digest(device.secret_hash, hash_token(secret))
