"""Telling everyone what a use case changed, once the store has it; and the sign-out receipt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from screengate.domain.downloads import Download
from screengate.domain.errors import SignedOut
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.notices import Announcement, Notice, NoticeData, NoticeKind
from screengate.domain.sessions import SignOut
from screengate.domain.streams import Stream
from screengate.ports import Ports
from screengate.services.views import SignOutReceipt


async def announce(ports: Ports, receipt: SignOutReceipt) -> SignOutReceipt:
    """After a sign-out commits: refuse here at once, free Redis slots, tell every instance,
    and wait a moment to hear which connected devices were told live."""
    sign_out = receipt.sign_out
    if not sign_out.session_ids:
        return receipt
    # This instance refuses the credentials before the call returns, whatever the bus does.
    ports.revocations.revoke(sign_out.session_ids)
    if ports.leases is not None and sign_out.stream_ids:
        # The store already ended these streams; free their Redis slots too.
        await ports.leases.release(sign_out.account_id, sign_out.stream_ids)
    listening = await ports.presence.connected(sign_out.session_ids)
    watch = ports.hub.expect(receipt.announcement.id)
    await ports.bus.publish(receipt.announcement)
    told = await watch.told(list(listening), ports.receipt_wait) if listening else set()
    if told:
        await _record_told(ports, receipt, told)
    return replace(
        receipt, devices=[replace(d, notified=d.session_id in told) for d in receipt.devices]
    )


async def account_changed(ports: Ports, account_id: AccountId) -> None:
    """The account's page changed (plan, profiles): every instance forgets its copy."""
    await ports.bus.publish(Announcement(id=ports.tokens.new_id(), account_id=account_id))


async def streams_ended(ports: Ports, streams: Sequence[Stream]) -> None:
    """Tell the devices whose streams were stopped (from elsewhere, or replaced) at once."""
    notices = tuple(
        Notice(
            ports.tokens.new_id(),
            NoticeKind.STREAM_ENDED,
            s.account_id,
            s.session_id,
            s.device_id,
            s.ended_at or ports.clock.now(),
            {"stream_id": s.id, "reason": s.end_reason.value if s.end_reason else None},
        )
        for s in streams
    )
    if notices:
        await ports.bus.publish(
            Announcement(
                id=ports.tokens.new_id(), account_id=notices[0].account_id, notices=notices
            )
        )


def sign_out_notices(
    new_id: Callable[[], str],
    sign_out: SignOut,
    streams: Sequence[Stream],
    downloads: Sequence[Download],
) -> tuple[Notice, ...]:
    """Per device: its stream ended, its downloads revoked, then that it was signed out."""
    reason = sign_out.reason.value
    notices: list[Notice] = []
    for session_id, device_id in zip(sign_out.session_ids, sign_out.device_ids, strict=True):

        def notice(
            kind: NoticeKind,
            data: NoticeData,
            session_id: SessionId = session_id,
            device_id: DeviceId = device_id,
        ) -> Notice:
            return Notice(
                new_id(), kind, sign_out.account_id, session_id, device_id, sign_out.at, data
            )

        for stream in (s for s in streams if s.session_id == session_id):
            notices.append(
                notice(NoticeKind.STREAM_ENDED, {"stream_id": stream.id, "reason": reason})
            )
        revoked = [d.id for d in downloads if d.session_id == session_id]
        if revoked:
            notices.append(
                notice(
                    NoticeKind.DOWNLOADS_REVOKED, {"download_ids": list(revoked), "reason": reason}
                )
            )
        detail = SignedOut(reason, sign_out.at).detail
        notices.append(notice(NoticeKind.SIGNED_OUT, {"reason": reason, "detail": detail}))
    return tuple(notices)


async def _record_told(ports: Ports, receipt: SignOutReceipt, told: set[SessionId]) -> None:
    now = ports.clock.now()
    reached = [d for d in receipt.devices if d.session_id in told]
    async with ports.uow() as uow:
        await uow.sessions.mark_told([d.session_id for d in reached], now)
        await uow.events.add_many(
            [
                SecurityEvent(
                    account_id=receipt.sign_out.account_id,
                    kind=EventKind.SIGN_OUT_TOLD,
                    at=now,
                    device_id=device.device_id,
                    device_name=device.name,
                    session_id=device.session_id,
                    detail={"reason": receipt.sign_out.reason.value},
                )
                for device in reached
            ]
        )
        await uow.commit()
