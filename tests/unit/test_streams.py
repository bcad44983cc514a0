"""Plan limits over the fakes: screens, heartbeats, downloads, and what a sign-out frees."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from screengate.domain.catalogue import Catalogue, Maturity, Title
from screengate.domain.devices import DeviceType
from screengate.domain.errors import (
    DeviceDownloadLimit,
    DownloadDeviceLimit,
    NotForKids,
    ProfileLocked,
    StreamEnded,
    StreamNotFound,
    TooManyStreams,
)
from screengate.domain.ids import DeviceId, ProfileId
from screengate.domain.sessions import Principal
from screengate.domain.streams import Stream
from screengate.ports import Ports
from screengate.services import accounts, auth, downloads, profiles, sign_out, streams
from screengate.services.devices import list_devices
from tests.unit.conftest import FrozenClock

EMAIL = "ana@example.com"
PASSWORD = "correct horse battery"
TITLE = "night-harbour"


async def _devices(ports: Ports, n: int, plan: str = "standard") -> list[Principal]:
    await accounts.sign_up(ports, email=EMAIL, password=PASSWORD, plan=plan)
    pairs = [
        await auth.sign_in(ports, email=EMAIL, password=PASSWORD, device_type=DeviceType.SMART_TV)
        for _ in range(n)
    ]
    return [await auth.authenticate(ports, p.access_token) for p in pairs]


async def _profile(ports: Ports, who: Principal) -> ProfileId:
    return (await profiles.list_profiles(ports, who))[0].id


async def _play(ports: Ports, who: Principal, title: str = TITLE) -> Stream:
    return await streams.start_stream(
        ports, who, profile_id=await _profile(ports, who), title_id=title
    )


async def test_the_plan_admits_exactly_its_screens_and_names_the_holders(ports: Ports) -> None:
    tv, phone, console = await _devices(ports, 3)
    first, second = await _play(ports, tv), await _play(ports, phone)
    with pytest.raises(TooManyStreams) as refused:
        await _play(ports, console)
    assert refused.value.extra["limit"] == 2
    assert [h["stream_id"] for h in refused.value.extra["active"]] == [first.id, second.id]
    assert {h["device_type"] for h in refused.value.extra["active"]} == {"smart_tv"}


async def test_a_device_playing_something_else_keeps_its_one_screen(ports: Ports) -> None:
    tv, phone = await _devices(ports, 2)
    old = await _play(ports, tv)
    await _play(ports, phone)
    new = await _play(ports, tv, "wild-coasts")
    with pytest.raises(StreamEnded) as ended:
        await streams.heartbeat(ports, tv, old.id)
    assert ended.value.reason == "replaced"
    assert await streams.heartbeat(ports, tv, new.id)


async def test_the_owner_stops_another_devices_stream_and_plays_at_once(ports: Ports) -> None:
    tv, phone, console = await _devices(ports, 3)
    held = await _play(ports, tv)
    await _play(ports, phone)
    await streams.stop_stream(ports, console, held.id)
    assert (await _play(ports, console)).device_id == console.device_id
    with pytest.raises(StreamEnded) as ended:
        await streams.heartbeat(ports, tv, held.id)
    assert ended.value.reason == "stopped_by_owner"


async def test_a_vanished_device_frees_its_screen_when_the_lease_runs_out(
    ports: Ports, clock: FrozenClock
) -> None:
    tv, phone, console = await _devices(ports, 3)
    await _play(ports, tv)
    kept = await _play(ports, phone)
    clock.advance(timedelta(seconds=60))
    await streams.heartbeat(ports, phone, kept.id)
    clock.advance(timedelta(seconds=31))
    assert (await _play(ports, console)).device_id == console.device_id


async def test_an_expired_streams_heartbeat_says_it_expired(
    ports: Ports, clock: FrozenClock
) -> None:
    (tv,) = await _devices(ports, 1)
    stream = await _play(ports, tv)
    clock.advance(timedelta(seconds=90))
    with pytest.raises(StreamEnded) as ended:
        await streams.heartbeat(ports, tv, stream.id)
    assert ended.value.reason == "expired"


async def test_only_the_playing_device_can_keep_a_stream_alive(ports: Ports) -> None:
    tv, phone = await _devices(ports, 2)
    stream = await _play(ports, tv)
    with pytest.raises(StreamNotFound):
        await streams.heartbeat(ports, phone, stream.id)


async def test_a_sign_out_ends_the_stream_and_its_downloads_together(ports: Ports) -> None:
    tv, phone = await _devices(ports, 2)
    stream = await _play(ports, tv)
    download = await downloads.start_download(
        ports, tv, profile_id=await _profile(ports, tv), title_id="wild-coasts"
    )
    receipt = await sign_out.sign_out_device(ports, phone, DeviceId(tv.device_id))
    assert receipt.sign_out.stream_ids == (stream.id,)
    assert receipt.sign_out.download_ids == (download.id,)
    assert await streams.active_streams(ports, phone) == []
    assert await downloads.list_downloads(ports, tv) == []
    with pytest.raises(StreamEnded) as ended:
        await streams.heartbeat(ports, tv, stream.id)
    assert ended.value.reason == "signed_out_remotely"


async def test_a_downgrade_stops_nothing_but_admits_nothing_until_under_the_limit(
    ports: Ports,
) -> None:
    tv, phone, console = await _devices(ports, 3, plan="premium")
    first, _ = await _play(ports, tv), await _play(ports, phone)
    await accounts.change_plan(ports, EMAIL, "basic")
    assert len(await streams.active_streams(ports, console)) == 2
    with pytest.raises(TooManyStreams):
        await _play(ports, console)
    await streams.stop_stream(ports, tv, first.id)
    with pytest.raises(TooManyStreams):
        await _play(ports, console)
    await sign_out.sign_out_device(ports, console, DeviceId(phone.device_id))
    assert (await _play(ports, console)).device_id == console.device_id


async def test_a_locked_profile_asks_for_its_pin(ports: Ports) -> None:
    (tv,) = await _devices(ports, 1)
    locked = await profiles.create_profile(ports, tv, name="Private", pin="4321")
    for pin in (None, "1234"):
        with pytest.raises(ProfileLocked):
            await streams.start_stream(ports, tv, profile_id=locked.id, title_id=TITLE, pin=pin)
    started = await streams.start_stream(
        ports, tv, profile_id=locked.id, title_id=TITLE, pin="4321"
    )
    assert started.profile_id == locked.id


async def test_a_kids_profile_plays_only_kids_titles(ports: Ports) -> None:
    (tv,) = await _devices(ports, 1)
    kids = await profiles.create_profile(ports, tv, name="Kids", kids=True)
    with pytest.raises(NotForKids):
        await streams.start_stream(ports, tv, profile_id=kids.id, title_id=TITLE)
    assert await streams.start_stream(ports, tv, profile_id=kids.id, title_id="dragon-school")


async def test_playing_is_what_manage_access_and_devices_shows(ports: Ports) -> None:
    tv, phone = await _devices(ports, 2)
    await _play(ports, tv)
    listed = {d.device_id: d for d in await list_devices(ports, phone)}
    assert listed[tv.device_id].streaming
    activity = listed[tv.device_id].last_activity
    assert activity is not None
    assert (activity.title_id, activity.profile_name) == (TITLE, "Ana")
    assert not listed[phone.device_id].streaming


async def test_downloads_stay_within_the_plans_devices(ports: Ports) -> None:
    tv, phone, console = await _devices(ports, 3, plan="basic")
    profile = await _profile(ports, tv)
    await downloads.start_download(ports, tv, profile_id=profile, title_id=TITLE)
    with pytest.raises(DownloadDeviceLimit) as refused:
        await downloads.start_download(ports, phone, profile_id=profile, title_id=TITLE)
    assert refused.value.extra["devices"] == [
        {"device_id": tv.device_id, "name": "Smart TV", "downloads": 1}
    ]
    mine = await downloads.list_downloads(ports, tv)
    await downloads.delete_download(ports, tv, mine[0].id)
    assert await downloads.start_download(ports, phone, profile_id=profile, title_id=TITLE)
    assert console.device_id


async def test_a_device_holds_at_most_the_plans_downloads(ports: Ports) -> None:
    extra = [Title(f"extra-{n}", f"Extra {n}", Maturity.ALL, 2026, "Test", 10) for n in range(16)]
    ports = replace(ports, catalogue=Catalogue(extra))
    (tv,) = await _devices(ports, 1, plan="standard_with_ads")
    profile = await _profile(ports, tv)
    for title in extra[:15]:
        await downloads.start_download(ports, tv, profile_id=profile, title_id=title.id)
    again = await downloads.start_download(ports, tv, profile_id=profile, title_id="extra-0")
    assert again.title_id == "extra-0"
    assert len(await downloads.list_downloads(ports, tv)) == 15
    with pytest.raises(DeviceDownloadLimit) as refused:
        await downloads.start_download(ports, tv, profile_id=profile, title_id="extra-15")
    assert refused.value.extra["limit"] == 15


async def test_an_expired_licence_no_longer_counts(ports: Ports, clock: FrozenClock) -> None:
    tv, phone = await _devices(ports, 2, plan="basic")
    profile = await _profile(ports, tv)
    await downloads.start_download(ports, tv, profile_id=profile, title_id=TITLE)
    clock.advance(timedelta(days=7))
    assert await downloads.list_downloads(ports, tv) == []
    assert await downloads.start_download(ports, phone, profile_id=profile, title_id=TITLE)
