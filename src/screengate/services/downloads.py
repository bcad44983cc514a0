"""Downloads: a licence for a title on this device, within the plan's device and per-device caps."""

from __future__ import annotations

from screengate.domain.devices import UNKNOWN_DEVICE
from screengate.domain.downloads import Download, DownloadEndReason, devices_over_limit
from screengate.domain.errors import DownloadDeviceLimit, DownloadNotFound
from screengate.domain.ids import DownloadId, ProfileId
from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services.announce import account_changed
from screengate.services.streams import choose_title


async def start_download(
    ports: Ports,
    principal: Principal,
    *,
    profile_id: ProfileId,
    title_id: str,
    pin: str | None = None,
) -> Download:
    """Download a title. Downloading it again on the same device renews the licence."""
    profile, plan, title = await choose_title(ports, principal, profile_id, title_id, pin)
    now = ports.clock.now()
    expires_at = now + ports.download_licence
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        live = await uow.downloads.live_for_account(principal.account_id, now)
        again = next(
            (d for d in live if d.device_id == principal.device_id and d.title_id == title.id),
            None,
        )
        if again is not None:
            again.expires_at = expires_at
            await uow.downloads.save(again)
            await uow.commit()
            await account_changed(ports, principal.account_id)
            return again
        holders = devices_over_limit(live, device_id=principal.device_id, plan=plan)
        if holders is not None:
            names = {d.id: d.name for d in await uow.devices.for_account(principal.account_id)}
            raise DownloadDeviceLimit(
                plan.max_download_devices,
                [
                    {
                        "device_id": device_id,
                        "name": names.get(device_id, UNKNOWN_DEVICE),
                        "downloads": sum(1 for d in live if d.device_id == device_id),
                    }
                    for device_id in holders
                ],
            )
        download = Download(
            id=DownloadId(ports.tokens.new_id()),
            account_id=principal.account_id,
            device_id=principal.device_id,
            session_id=principal.session_id,
            profile_id=profile.id,
            title_id=title.id,
            created_at=now,
            expires_at=expires_at,
        )
        await uow.downloads.add(download)
        await uow.commit()
    await account_changed(ports, principal.account_id)
    return download


async def list_downloads(ports: Ports, principal: Principal) -> list[Download]:
    """This device's downloads that can still be played."""
    now = ports.clock.now()
    async with ports.reader() as uow:
        live = await uow.downloads.live_for_account(principal.account_id, now)
    return [d for d in live if d.device_id == principal.device_id]


async def delete_download(ports: Ports, principal: Principal, download_id: DownloadId) -> None:
    now = ports.clock.now()
    async with ports.uow() as uow:
        download = await uow.downloads.get(principal.account_id, download_id)
        if download is None or download.device_id != principal.device_id:
            raise DownloadNotFound(download_id=download_id)
        if download.revoke(DownloadEndReason.DELETED, now):
            await uow.downloads.save(download)
            await uow.commit()
    await account_changed(ports, principal.account_id)
