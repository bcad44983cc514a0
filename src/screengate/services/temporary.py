"""Temporary sign-ins ("Sign in until..."): their owner ends one early or moves its end."""

from __future__ import annotations

from datetime import datetime

from screengate.domain.errors import DeviceNotFound
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import DeviceId, is_well_formed
from screengate.domain.sessions import Principal, Session, SignOutReason, SignOutScope
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import account_changed, announce
from screengate.services.sign_out import end_and_log
from screengate.services.views import SignOutReceipt


async def end_temporary_sign_in(
    ports: Ports, principal: Principal, device_id: DeviceId, ip: str | None = None
) -> SignOutReceipt:
    """End it now, as its time running out would: signed out with temporary_access_ended."""
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        await _temporary_session(uow, principal, device_id)
        scope = SignOutScope(principal.account_id, device_id=device_id)
        receipt = await end_and_log(
            uow, ports, scope, SignOutReason.TEMPORARY_ACCESS_ENDED, principal, ip
        )
        await uow.commit()
    return await announce(ports, receipt)


async def change_signed_in_until(
    ports: Ports, principal: Principal, device_id: DeviceId, until: datetime, ip: str | None = None
) -> datetime:
    """Extend (or shorten) a temporary sign-in: at least the minimum from now, at most 30 days."""
    now = ports.clock.now()
    until = ports.device_codes.check_until(until, now)
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        session = await _temporary_session(uow, principal, device_id)
        previous, session.signed_in_until = session.signed_in_until, until
        await uow.sessions.save(session)
        device = await uow.devices.get(principal.account_id, device_id)
        await uow.events.add(
            SecurityEvent(
                account_id=principal.account_id,
                kind=EventKind.SIGNED_IN_UNTIL_CHANGED,
                at=now,
                device_id=device_id,
                device_name=device.name if device else None,
                session_id=session.id,
                ip=ip,
                location=ports.geo.locate(ip),
                detail={
                    "from": _iso(previous) if previous else None,
                    "to": _iso(until),
                    "by_device_id": principal.device_id,
                },
            )
        )
        await uow.commit()
    await account_changed(ports, principal.account_id)
    return until


async def _temporary_session(uow: UnitOfWork, principal: Principal, device_id: DeviceId) -> Session:
    if not is_well_formed(device_id):
        raise DeviceNotFound(device_id=device_id)
    for session in await uow.sessions.live_for_account(principal.account_id):
        if session.device_id == device_id and session.signed_in_until is not None:
            return session
    raise DeviceNotFound(device_id=device_id)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
