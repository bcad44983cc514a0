"""Push, not poll: what a device's event stream is told, and the receipts a sign-out returns."""

from __future__ import annotations

import pytest

from screengate.domain.devices import DeviceType
from screengate.domain.errors import SignedOut
from screengate.domain.events import EventKind
from screengate.domain.ids import DeviceId
from screengate.domain.notices import Notice, NoticeKind
from screengate.domain.sessions import Principal
from screengate.ports import Listener, Ports
from screengate.services import accounts, auth, downloads, profiles, sign_out, streams
from screengate.services.activity import security_activity
from screengate.services.events import close_events, open_events

EMAIL = "ana@example.com"
PASSWORD = "correct horse battery"


async def _devices(ports: Ports, n: int) -> list[Principal]:
    await accounts.sign_up(ports, email=EMAIL, password=PASSWORD, plan="premium")
    pairs = [
        await auth.sign_in(ports, email=EMAIL, password=PASSWORD, device_type=DeviceType.SMART_TV)
        for _ in range(n)
    ]
    return [await auth.authenticate(ports, p.access_token) for p in pairs]


async def _drain(listener: Listener) -> list[Notice]:
    told = []
    while (notice := await listener.next(0.05)) is not None:
        told.append(notice)
    return told


async def test_a_listening_device_is_told_why_and_the_receipt_says_so(ports: Ports) -> None:
    tv, phone = await _devices(ports, 2)
    listener = await open_events(ports, tv, None)
    receipt = await sign_out.sign_out_device(ports, phone, DeviceId(tv.device_id))
    told = await _drain(listener)
    assert [(n.kind, n.data["reason"]) for n in told] == [
        (NoticeKind.SIGNED_OUT, "signed_out_remotely")
    ]
    assert told[0].data["detail"] == "You were signed out from another device."
    assert [d.notified for d in receipt.devices] == [True]
    log = await security_activity(ports, phone)
    assert log.events[0].kind is EventKind.SIGN_OUT_TOLD
    await close_events(ports, tv, listener)


async def test_a_device_that_is_not_listening_is_confirmed_when_it_comes_back(
    ports: Ports,
) -> None:
    (phone,) = await _devices(ports, 1)
    tv = await auth.sign_in(ports, email=EMAIL, password=PASSWORD, device_type=DeviceType.PHONE)
    receipt = await sign_out.sign_out_device(ports, phone, DeviceId(tv.device_id))
    assert [d.notified for d in receipt.devices] == [False]
    for _ in range(2):
        with pytest.raises(SignedOut):
            await auth.authenticate(ports, tv.access_token)
    kinds = [e.kind for e in (await security_activity(ports, phone)).events]
    assert kinds.count(EventKind.SIGN_OUT_CONFIRMED) == 1


async def test_a_sign_out_tells_of_the_stream_and_downloads_before_the_sign_out(
    ports: Ports,
) -> None:
    tv, phone = await _devices(ports, 2)
    profile = (await profiles.list_profiles(ports, tv))[0].id
    stream = await streams.start_stream(ports, tv, profile_id=profile, title_id="wild-coasts")
    download = await downloads.start_download(
        ports, tv, profile_id=profile, title_id="night-harbour"
    )
    listener = await open_events(ports, tv, None)
    await sign_out.sign_out_everywhere(ports, phone)
    told = await _drain(listener)
    assert [n.kind for n in told] == [
        NoticeKind.STREAM_ENDED,
        NoticeKind.DOWNLOADS_REVOKED,
        NoticeKind.SIGNED_OUT,
    ]
    assert told[0].data == {"stream_id": stream.id, "reason": "signed_out_everywhere"}
    assert told[1].data["download_ids"] == [download.id]


async def test_a_stream_stopped_from_another_device_is_told_at_once(ports: Ports) -> None:
    tv, phone = await _devices(ports, 2)
    profile = (await profiles.list_profiles(ports, tv))[0].id
    stream = await streams.start_stream(ports, tv, profile_id=profile, title_id="wild-coasts")
    listener = await open_events(ports, tv, None)
    await streams.stop_stream(ports, phone, stream.id)
    told = await _drain(listener)
    assert [(n.kind, n.data) for n in told] == [
        (NoticeKind.STREAM_ENDED, {"stream_id": stream.id, "reason": "stopped_by_owner"})
    ]


async def test_a_device_that_reconnects_learns_what_it_missed(ports: Ports) -> None:
    tv, phone = await _devices(ports, 2)
    profile = (await profiles.list_profiles(ports, tv))[0].id
    first = await streams.start_stream(ports, tv, profile_id=profile, title_id="wild-coasts")
    listener = await open_events(ports, tv, None)
    await streams.stop_stream(ports, phone, first.id)
    seen = await _drain(listener)
    await close_events(ports, tv, listener)
    second = await streams.start_stream(ports, tv, profile_id=profile, title_id="kitchen-wars")
    await streams.stop_stream(ports, phone, second.id)
    again = await open_events(ports, tv, seen[-1].id)
    assert [n.data["stream_id"] for n in again.replay()] == [second.id]


async def test_a_signed_out_device_cannot_open_its_event_stream(ports: Ports) -> None:
    tv, phone = await _devices(ports, 2)
    await sign_out.sign_out_device(ports, phone, DeviceId(tv.device_id))
    with pytest.raises(SignedOut):
        await open_events(ports, tv, None)
    assert await ports.presence.connected([tv.session_id]) == set()
