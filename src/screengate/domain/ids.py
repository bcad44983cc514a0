"""Identifier types, so an account id can never be passed where a device id is expected."""

import re
from typing import NewType

AccountId = NewType("AccountId", str)
ProfileId = NewType("ProfileId", str)
DeviceId = NewType("DeviceId", str)
SessionId = NewType("SessionId", str)
StreamId = NewType("StreamId", str)
DownloadId = NewType("DownloadId", str)

# Every id this service gives (UUIDs) or accepts from a device (sign-in's device_id) has this
# shape; anything else names nothing, and never reaches a store (PostgreSQL refuses a NUL).
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_well_formed(identifier: str) -> bool:
    return _WELL_FORMED.fullmatch(identifier) is not None
