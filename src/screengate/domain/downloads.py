"""Downloads: a licence for one title on one device, within the plan's limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from screengate.domain.errors import DeviceDownloadLimit
from screengate.domain.ids import AccountId, DeviceId, DownloadId, ProfileId, SessionId
from screengate.domain.plans import Plan


class DownloadEndReason(StrEnum):
    DELETED = "deleted"
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


@dataclass(slots=True)
class Download:
    id: DownloadId
    account_id: AccountId
    device_id: DeviceId
    session_id: SessionId
    profile_id: ProfileId
    title_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: DownloadEndReason | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, reason: DownloadEndReason, at: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        self.revoked_at = at
        self.revoke_reason = reason
        return True


def devices_over_limit(
    live: Iterable[Download], *, device_id: DeviceId, plan: Plan
) -> list[DeviceId] | None:
    """The devices holding downloads when this device may not start holding them, else None.
    Raises DeviceDownloadLimit when this device is at its own cap."""
    live = list(live)
    holders = list(dict.fromkeys(d.device_id for d in live))
    if device_id not in holders and len(holders) >= plan.max_download_devices:
        return holders
    if sum(1 for d in live if d.device_id == device_id) >= plan.max_downloads_per_device:
        raise DeviceDownloadLimit(plan.max_downloads_per_device)
    return None
