"""Every way to sign out: this device, one device, all devices, and the support desk's."""

from __future__ import annotations

from datetime import datetime

from screengate.domain.accounts import normalise_email
from screengate.domain.device_codes import AuthorizationStatus, shown
from screengate.domain.devices import UNKNOWN_DEVICE
from screengate.domain.downloads import Download, DownloadEndReason
from screengate.domain.errors import AccountNotFound, DeviceNotFound
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, SessionId, is_well_formed
from screengate.domain.mail import MailKind
from screengate.domain.notices import Announcement
from screengate.domain.sessions import Principal, SignOut, SignOutReason, SignOutScope
from screengate.domain.streams import Stream, StreamEndReason
from screengate.ports import Ports, UnitOfWork
from screengate.services.acting import sessions_ended
from screengate.services.announce import announce, sign_out_notices
from screengate.services.mail import forgot_link, mail_committed, queue_mail, when
from screengate.services.views import SignedOutDevice, SignOutReceipt


async def sign_out(ports: Ports, principal: Principal, ip: str | None = None) -> SignOutReceipt:
    """Sign out on this device."""
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        scope = SignOutScope(principal.account_id, session_id=principal.session_id)
        receipt = await end_and_log(uow, ports, scope, SignOutReason.SIGNED_OUT_HERE, principal, ip)
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
    if not is_well_formed(device_id):
        raise DeviceNotFound(device_id=device_id)
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        scope = SignOutScope(principal.account_id, device_id=device_id)
        receipt = await end_and_log(uow, ports, scope, reason, principal, ip)
        if not receipt.devices:
            raise DeviceNotFound(device_id=device_id)
        await uow.commit()
    return await announce(ports, receipt)


async def sign_out_everywhere(
    ports: Ports, principal: Principal, *, keep_this_device: bool = False, ip: str | None = None
) -> SignOutReceipt:
    """ "Sign out of all devices": every device, this one too unless kept. The owner is
    mailed how many went."""
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        keep = principal.session_id if keep_this_device else None
        receipt = await end_everywhere(
            uow,
            ports,
            principal.account_id,
            SignOutReason.SIGNED_OUT_EVERYWHERE,
            by=principal,
            ip=ip,
            keep=keep,
        )
        await _mail_signed_out_everywhere(uow, ports, principal, receipt)
        await uow.commit()
    mail_committed(ports)
    return await announce(ports, receipt)


async def end_everywhere(
    uow: UnitOfWork,
    ports: Ports,
    account_id: AccountId,
    reason: SignOutReason,
    *,
    by: Principal | None = None,
    ip: str | None = None,
    keep: SessionId | None = None,
) -> SignOutReceipt:
    """Every device of the account signed out (but `keep`), inside the caller's transaction,
    which holds the account's lock. The one path "Sign out of all devices", a password reset
    and "This wasn't me" share: whatever a sign-out everywhere must also end is ended here."""
    scope = SignOutScope(account_id, keep=keep)
    return await end_and_log(uow, ports, scope, reason, by, ip)


async def _mail_signed_out_everywhere(
    uow: UnitOfWork, ports: Ports, principal: Principal, receipt: SignOutReceipt
) -> None:
    if ports.mail is None:
        return
    account = await uow.accounts.get(principal.account_id)
    if account is None:
        return
    by = await uow.devices.get(principal.account_id, principal.device_id)
    await queue_mail(
        uow,
        ports,
        MailKind.SIGNED_OUT_EVERYWHERE,
        to=account.email,
        account_id=account.id,
        context={
            "count": len(receipt.devices),
            "when": when(ports.clock.now()),
            "by": by.name if by else None,
            "forgot_link": forgot_link(ports),
        },
    )


async def operator_sign_out(ports: Ports, email: str, device_id: DeviceId | None) -> SignOutReceipt:
    """The support desk's sign-out: one device, or every device when no id is given."""
    if device_id is not None and not is_well_formed(device_id):
        raise DeviceNotFound(device_id=device_id)
    async with ports.uow() as uow:
        account = await uow.accounts.by_email(normalise_email(email))
        if account is None:
            raise AccountNotFound(email=email)
        await uow.lock_account(account.id)
        scope = SignOutScope(account.id, device_id=device_id)
        receipt = await end_and_log(uow, ports, scope, SignOutReason.OPERATOR, None, None)
        if device_id is not None and not receipt.devices:
            raise DeviceNotFound(device_id=device_id)
        await uow.commit()
    return await announce(ports, receipt)


async def end_and_log(
    uow: UnitOfWork,
    ports: Ports,
    scope: SignOutScope,
    reason: SignOutReason,
    by: Principal | None,
    ip: str | None,
    kind: EventKind = EventKind.SIGNED_OUT,
) -> SignOutReceipt:
    """End the live sessions `scope` covers, their streams and downloads, and log each device,
    inside the caller's transaction (which holds the account's lock, so the set cannot change
    between these statements); the receipt carries what to announce once it commits."""
    now = ports.clock.now()
    account_id = scope.account_id
    ending = await uow.sessions.ending(scope)
    if ending:
        by_device = await uow.devices.get(account_id, by.device_id) if by else None
        entry = SecurityEvent(
            account_id=account_id,
            kind=kind,
            at=now,
            ip=ip,
            location=ports.geo.locate(ip),
            detail={
                "reason": reason.value,
                "by_device_id": by.device_id if by else None,
                "by_device_name": by_device.name if by_device else _BY_NOBODY.get(reason),
            },
        )
        # Thousands of devices at once ("Sign out of all devices") cost these two statements,
        # not two per device.
        await uow.events.add_for_sessions(scope, entry)
        await uow.sessions.end(scope, reason, now)
    session_ids = tuple(e.session_id for e in ending)
    sessions_ended(session_ids)
    streams = await _end_streams(uow, account_id, set(session_ids), reason, now)
    downloads = await _revoke_downloads(uow, account_id, set(session_ids), reason, now)
    outcome = SignOut(
        account_id=account_id,
        reason=reason,
        at=now,
        session_ids=session_ids,
        device_ids=tuple(e.device_id for e in ending),
        stream_ids=tuple(s.id for s in streams),
        download_ids=tuple(d.id for d in downloads),
    )
    announcement_id = ports.tokens.new_id()
    announcement = Announcement(
        id=announcement_id,
        account_id=account_id,
        revoked=session_ids,
        notices=sign_out_notices(announcement_id, outcome, streams, downloads),
    )
    signed_out = [
        SignedOutDevice(e.device_id, e.device_name or UNKNOWN_DEVICE, False, e.session_id)
        for e in ending
    ]
    voided = await void_codes(uow, ports, scope, reason, now) if _everywhere(scope) else ()
    return SignOutReceipt(
        sign_out=outcome, devices=signed_out, announcement=announcement, voided_codes=voided
    )


def _everywhere(scope: SignOutScope) -> bool:
    """Every device of the account (this one perhaps kept): "Sign out of all devices", a
    password change, and whatever takes the account back later (a reset by mail)."""
    return scope.session_id is None and scope.device_id is None


async def void_codes(
    uow: UnitOfWork, ports: Ports, scope: SignOutScope, reason: SignOutReason, now: datetime
) -> tuple[str, ...]:
    """A TV code of the account that no device has collected tokens for yet dies with the
    others: an approval given before the account was taken back signs nothing in after.
    Inside the caller's transaction; announce() (or the caller) tells the TVs afterwards."""
    voided = []
    for authorization in await uow.device_authorizations.claimed(scope.account_id):
        authorization.status = AuthorizationStatus.VOIDED
        await uow.device_authorizations.save(authorization)
        await uow.events.add(
            SecurityEvent(
                account_id=scope.account_id,
                kind=EventKind.DEVICE_CODE_VOIDED,
                at=now,
                device_id=authorization.device_id,
                device_name=authorization.device_name,
                ip=authorization.ip,
                location=authorization.location,
                detail={"reason": reason.value, "user_code": shown(authorization.user_code)},
            )
        )
        voided.append(authorization.id)
    return tuple(voided)


# Who did it, when no signed-in device did.
_BY_NOBODY = {SignOutReason.OPERATOR: "Customer support"}


async def _end_streams(
    uow: UnitOfWork,
    account_id: AccountId,
    session_ids: set[SessionId],
    reason: SignOutReason,
    now: datetime,
) -> list[Stream]:
    """A signed-out device's stream stops with it, freeing its slot in the same transaction."""
    ended = []
    for stream in await uow.streams.open_for_account(account_id) if session_ids else []:
        if stream.session_id in session_ids and stream.end(
            StreamEndReason.for_sign_out(reason), now
        ):
            await uow.streams.save(stream)
            ended.append(stream)
    return ended


async def _revoke_downloads(
    uow: UnitOfWork,
    account_id: AccountId,
    session_ids: set[SessionId],
    reason: SignOutReason,
    now: datetime,
) -> list[Download]:
    """Signing out deletes the device's downloads: their licences end with the session."""
    revoked = []
    for download in await uow.downloads.open_for_account(account_id) if session_ids else []:
        if download.session_id in session_ids and download.revoke(
            DownloadEndReason(reason.value), now
        ):
            await uow.downloads.save(download)
            revoked.append(download)
    return revoked
