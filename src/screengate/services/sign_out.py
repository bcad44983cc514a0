"""Every way to sign out: this device, one device, all devices, and the support desk's."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from screengate.domain.accounts import normalise_email
from screengate.domain.downloads import Download, DownloadEndReason
from screengate.domain.errors import AccountNotFound, DeviceNotFound
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.notices import Announcement
from screengate.domain.sessions import Principal, Session, SignOutReason, end_sessions
from screengate.domain.streams import Stream, StreamEndReason
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import announce, sign_out_notices
from screengate.services.views import SignedOutDevice, SignOutReceipt


async def sign_out(ports: Ports, principal: Principal, ip: str | None = None) -> SignOutReceipt:
    """Sign out on this device."""
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        session = await uow.sessions.get(principal.session_id)
        sessions = [session] if session is not None else []
        receipt = await end_and_log(
            uow, ports, principal.account_id, sessions, SignOutReason.SIGNED_OUT_HERE, principal, ip
        )
        await uow.commit()
    return await announce(ports, receipt)


async def sign_out_device(
    ports: Ports, principal: Principal, device_id: DeviceId, ip: str | None = None
) -> SignOutReceipt:
    """Sign out one device from another's "Manage access and devices"."""
    reason = (
        SignOutReason.SIGNED_OUT_HERE
        if device_id == principal.device_id
        else SignOutReason.SIGNED_OUT_REMOTELY
    )
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        live = await uow.sessions.live_for_account(principal.account_id)
        targets = [s for s in live if s.device_id == device_id]
        if not targets:
            raise DeviceNotFound(device_id=device_id)
        receipt = await end_and_log(
            uow, ports, principal.account_id, targets, reason, principal, ip
        )
        await uow.commit()
    return await announce(ports, receipt)


async def sign_out_everywhere(
    ports: Ports, principal: Principal, *, keep_this_device: bool = False, ip: str | None = None
) -> SignOutReceipt:
    """ "Sign out of all devices": every device, this one too unless kept."""
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        live = await uow.sessions.live_for_account(principal.account_id)
        targets = [s for s in live if not (keep_this_device and s.id == principal.session_id)]
        receipt = await end_and_log(
            uow,
            ports,
            principal.account_id,
            targets,
            SignOutReason.SIGNED_OUT_EVERYWHERE,
            principal,
            ip,
        )
        await uow.commit()
    return await announce(ports, receipt)


async def operator_sign_out(ports: Ports, email: str, device_id: DeviceId | None) -> SignOutReceipt:
    """The support desk's sign-out: one device, or every device when no id is given."""
    async with ports.uow() as uow:
        account = await uow.accounts.by_email(normalise_email(email))
        if account is None:
            raise AccountNotFound(email=email)
        await uow.lock_account(account.id)
        live = await uow.sessions.live_for_account(account.id)
        targets = [s for s in live if device_id is None or s.device_id == device_id]
        if device_id is not None and not targets:
            raise DeviceNotFound(device_id=device_id)
        receipt = await end_and_log(
            uow, ports, account.id, targets, SignOutReason.OPERATOR, None, None
        )
        await uow.commit()
    return await announce(ports, receipt)


async def end_and_log(
    uow: UnitOfWork,
    ports: Ports,
    account_id: AccountId,
    sessions: list[Session],
    reason: SignOutReason,
    by: Principal | None,
    ip: str | None,
    kind: EventKind = EventKind.SIGNED_OUT,
) -> SignOutReceipt:
    """End the sessions, their streams and downloads, and log each device, inside the
    caller's transaction; the receipt carries what to announce once it commits."""
    now = ports.clock.now()
    outcome = end_sessions(account_id, sessions, reason, now)
    streams = await _end_streams(uow, outcome.session_ids, reason, now)
    downloads = await _revoke_downloads(uow, outcome.session_ids, reason, now)
    outcome = replace(
        outcome,
        stream_ids=tuple(s.id for s in streams),
        download_ids=tuple(d.id for d in downloads),
    )
    devices = {d.id: d for d in await uow.devices.for_account(account_id)}
    by_name = devices[by.device_id].name if by and by.device_id in devices else None
    ending = set(outcome.session_ids)
    ended = [s for s in sessions if s.id in ending]
    signed_out: list[SignedOutDevice] = []
    events: list[SecurityEvent] = []
    location = ports.geo.locate(ip)
    for session in ended:
        device = devices.get(session.device_id)
        name = device.name if device else "Unknown device"
        signed_out.append(SignedOutDevice(session.device_id, name, False, session.id))
        events.append(
            SecurityEvent(
                account_id=account_id,
                kind=kind,
                at=now,
                device_id=session.device_id,
                device_name=name,
                session_id=session.id,
                ip=ip,
                location=location,
                detail={
                    "reason": reason.value,
                    "by_device_id": by.device_id if by else None,
                    "by_device_name": by_name if by else _BY_NOBODY.get(reason),
                },
            )
        )
    # Thousands of devices at once ("Sign out of all devices") cost two statements, not
    # two per device.
    await uow.sessions.save_many(ended)
    await uow.events.add_many(events)
    announcement = Announcement(
        id=ports.tokens.new_id(),
        account_id=account_id,
        revoked=outcome.session_ids,
        notices=sign_out_notices(ports.tokens.new_id, outcome, streams, downloads),
    )
    return SignOutReceipt(sign_out=outcome, devices=signed_out, announcement=announcement)


# Who did it, when no signed-in device did.
_BY_NOBODY = {SignOutReason.OPERATOR: "Customer support"}


async def _end_streams(
    uow: UnitOfWork, session_ids: tuple[SessionId, ...], reason: SignOutReason, now: datetime
) -> list[Stream]:
    """A signed-out device's stream stops with it, freeing its slot in the same transaction."""
    ended = []
    for stream in await uow.streams.open_for_sessions(session_ids) if session_ids else []:
        if stream.end(StreamEndReason.for_sign_out(reason), now):
            await uow.streams.save(stream)
            ended.append(stream)
    return ended


async def _revoke_downloads(
    uow: UnitOfWork, session_ids: tuple[SessionId, ...], reason: SignOutReason, now: datetime
) -> list[Download]:
    """Signing out deletes the device's downloads: their licences end with the session."""
    revoked = []
    for download in await uow.downloads.open_for_sessions(session_ids) if session_ids else []:
        if download.revoke(DownloadEndReason(reason.value), now):
            await uow.downloads.save(download)
            revoked.append(download)
    return revoked
