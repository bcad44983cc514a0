"""Telling everyone what a use case changed, once the store has it; and the sign-out receipt."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from screengate.domain.downloads import Download
from screengate.domain.errors import SignedOut
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.mail import MailKind
from screengate.domain.notices import Announcement, CodeDecided, Notice, NoticeData, NoticeKind
from screengate.domain.sessions import SignOut
from screengate.domain.streams import Stream
from screengate.ports import Ports
from screengate.services.mail import forgot_link, mail_committed, queue_mail, when
from screengate.services.views import SignOutReceipt


async def announce(ports: Ports, receipt: SignOutReceipt) -> SignOutReceipt:
    """After a sign-out commits: refuse here at once, free Redis slots, tell every instance,
    and wait a moment to hear which connected devices were told live."""
    sign_out = receipt.sign_out
    for authorization_id in receipt.voided_codes:
        # The TV still showing a voided code learns it at once, and shows a new one.
        await ports.bus.publish(CodeDecided(authorization_id, "voided"))
    if not sign_out.session_ids:
        return receipt
    # This instance refuses the credentials before the call returns, whatever the bus does.
    ports.revocations.revoke(sign_out.session_ids)
    if ports.leases is not None and sign_out.stream_ids:
        # The store already ended these streams; free their Redis slots too.
        await ports.leases.release(sign_out.account_id, sign_out.stream_ids)
    watch = ports.hub.expect(receipt.announcement.id)
    await ports.bus.publish(receipt.announcement)
    # Who holds an open stream is asked only once the word is out: for ten thousand devices
    # the question takes a while, and no device should wait for it. One told meanwhile may
    # have hung up already; the watch counts it all the same.
    listening = await ports.presence.connected(sign_out.session_ids)
    told = await watch.told(list(listening), ports.receipt_wait)
    if told:
        await _record_told(ports, receipt, told)
    return replace(
        receipt, devices=[replace(d, notified=d.session_id in told) for d in receipt.devices]
    )


async def account_changed(ports: Ports, account_id: AccountId) -> None:
    """The account's page changed (plan, profiles): every instance forgets its copy."""
    await ports.bus.publish(Announcement(id=ports.tokens.new_id(), account_id=account_id))


# What each change says on the account's open pages (and, once mail exists, in its mail).
SECURITY_CHANGES = {
    EventKind.TWO_STEP_ENABLED: "Two-step sign-in was turned on for your account.",
    EventKind.TWO_STEP_DISABLED: "Two-step sign-in was turned off for your account.",
    EventKind.RECOVERY_CODES_REGENERATED: (
        "New recovery codes were made; the old ones no longer work."
    ),
    EventKind.RECOVERY_CODE_USED: "A recovery code was used to sign in to your account.",
    EventKind.PASSKEY_ADDED: "A passkey was added to your account.",
    EventKind.PASSKEY_REMOVED: "A passkey was removed from your account.",
}


async def security_changed(ports: Ports, account_id: AccountId, change: EventKind) -> None:
    """Who can get in changed: every signed-in device of the account hears it at once (its
    open pages show it) and every instance forgets the account page.

    The one call site for these changes, and so the one place they are mailed from.
    """
    async with ports.reader() as uow:
        live = await uow.sessions.live_for_account(account_id)
    await _mail_security_change(ports, account_id, change)
    now = ports.clock.now()
    announcement_id = ports.tokens.new_id()
    data: NoticeData = {"change": change.value, "detail": SECURITY_CHANGES.get(change)}
    notices = tuple(
        Notice(
            f"{announcement_id}.{place}",
            NoticeKind.SECURITY_CHANGED,
            account_id,
            session.id,
            session.device_id,
            now,
            data,
        )
        for place, session in enumerate(live)
    )
    await ports.bus.publish(
        Announcement(id=announcement_id, account_id=account_id, notices=notices)
    )


async def _mail_security_change(ports: Ports, account_id: AccountId, change: EventKind) -> None:
    """The owner's mail about it ("A recovery code was used to sign in"), with the way out."""
    if ports.mail is None:
        return  # a store without mail (unit tests): the pages and devices are told all the same
    async with ports.uow() as uow:
        account = await uow.accounts.get(account_id)
        if account is None:
            return
        context: dict[str, object] = {
            "change": SECURITY_CHANGES.get(change, "Your sign-in settings changed."),
            "when": when(ports.clock.now()),
            "forgot_link": forgot_link(ports),
        }
        await queue_mail(
            uow,
            ports,
            MailKind.SECURITY_CHANGED,
            to=account.email,
            account_id=account.id,
            context=context,
        )
        await uow.commit()
    mail_committed(ports)


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
    announcement_id: str,
    sign_out: SignOut,
    streams: Sequence[Stream],
    downloads: Sequence[Download],
) -> tuple[Notice, ...]:
    """Per device: its stream ended, its downloads revoked, then that it was signed out.

    Each notice's id is the announcement's and its place in it: unique, and for "Sign out of
    all devices" not ten thousand random ids drawn while every device waits."""
    reason = sign_out.reason.value
    streams_of: dict[SessionId, list[Stream]] = defaultdict(list)
    for stream in streams:
        streams_of[stream.session_id].append(stream)
    downloads_of: dict[SessionId, list[str]] = defaultdict(list)
    for download in downloads:
        downloads_of[download.session_id].append(download.id)
    signed_out: NoticeData = {"reason": reason, "detail": SignedOut(reason, sign_out.at).detail}
    notices: list[Notice] = []

    def notice(
        kind: NoticeKind, session_id: SessionId, device_id: DeviceId, data: NoticeData
    ) -> None:
        notices.append(
            Notice(
                f"{announcement_id}.{len(notices)}",
                kind,
                sign_out.account_id,
                session_id,
                device_id,
                sign_out.at,
                data,
            )
        )

    for session_id, device_id in zip(sign_out.session_ids, sign_out.device_ids, strict=True):
        for stream in streams_of.get(session_id, ()):
            data: NoticeData = {"stream_id": stream.id, "reason": reason}
            notice(NoticeKind.STREAM_ENDED, session_id, device_id, data)
        if session_id in downloads_of:
            data = {"download_ids": downloads_of[session_id], "reason": reason}
            notice(NoticeKind.DOWNLOADS_REVOKED, session_id, device_id, data)
        notice(NoticeKind.SIGNED_OUT, session_id, device_id, signed_out)
    return tuple(notices)


async def _record_told(ports: Ports, receipt: SignOutReceipt, told: set[SessionId]) -> None:
    reached = [d.session_id for d in receipt.devices if d.session_id in told]
    entry = SecurityEvent(
        account_id=receipt.sign_out.account_id,
        kind=EventKind.SIGN_OUT_TOLD,
        at=ports.clock.now(),
        detail={"reason": receipt.sign_out.reason.value},
    )
    async with ports.uow() as uow:
        await uow.sessions.mark_told(reached, entry.at)
        await uow.events.add_for_each(reached, entry)
        await uow.commit()
