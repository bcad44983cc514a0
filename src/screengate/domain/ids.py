"""Identifier types, so an account id can never be passed where a device id is expected."""

from typing import NewType

AccountId = NewType("AccountId", str)
ProfileId = NewType("ProfileId", str)
DeviceId = NewType("DeviceId", str)
SessionId = NewType("SessionId", str)
StreamId = NewType("StreamId", str)
DownloadId = NewType("DownloadId", str)
