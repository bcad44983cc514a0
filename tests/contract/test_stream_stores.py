"""The stream and download stores of ports.py, run against every backend (see conftest.py)."""

from __future__ import annotations

from datetime import timedelta, timezone

from screengate.domain.downloads import Download, DownloadEndReason
from screengate.domain.ids import DownloadId, StreamId
from screengate.domain.streams import Stream, StreamEndReason
from tests.contract.factories import (
    T0,
    make_account,
    make_device,
    make_download,
    make_profile,
    make_session,
    make_stream,
)
from tests.contract.test_stores import UowFactory, a_signed_in_device, store

NOW = T0 + timedelta(minutes=10)
LIVE_UNTIL = NOW + timedelta(seconds=60)


async def stream_named(uow_factory: UowFactory, stream: Stream) -> Stream | None:
    async with uow_factory() as uow:
        return await uow.streams.get(stream.account_id, stream.id)


async def download_named(uow_factory: UowFactory, download: Download) -> Download | None:
    async with uow_factory() as uow:
        return await uow.downloads.get(download.account_id, download.id)


# Streams


async def test_a_stream_reads_back_as_it_was_written(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    stream = make_stream(session, title_id="70143836")
    await store(uow_factory, stream)
    assert await stream_named(uow_factory, stream) == stream


async def test_another_accounts_or_an_unknown_stream_is_not_found(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    stranger = make_account()
    stream = make_stream(session)
    await store(uow_factory, stranger, stream)
    async with uow_factory() as uow:
        assert await uow.streams.get(stranger.id, stream.id) is None
        assert await uow.streams.get(session.account_id, StreamId("no-such-stream")) is None


async def test_live_streams_exclude_ended_and_expired_ones_and_come_oldest_first(
    uow_factory: UowFactory,
) -> None:
    account, stranger = make_account(), make_account()
    tv, phone, elsewhere = make_device(account), make_device(account), make_device(stranger)
    on_tv, on_phone, abroad = make_session(tv), make_session(phone), make_session(elsewhere)
    newer = make_stream(on_tv, started_at=T0 + timedelta(minutes=2), expires_at=LIVE_UNTIL)
    older = make_stream(on_phone, started_at=T0, expires_at=LIVE_UNTIL)
    stopped = make_stream(on_phone, started_at=T0 + timedelta(minutes=1), expires_at=LIVE_UNTIL)
    stopped.end(StreamEndReason.STOPPED, NOW - timedelta(minutes=1))
    expired_just_now = make_stream(on_tv, expires_at=NOW)
    long_expired = make_stream(on_tv, expires_at=NOW - timedelta(minutes=5))
    strangers = make_stream(abroad, expires_at=LIVE_UNTIL)
    await store(uow_factory, account, stranger, tv, phone, elsewhere, on_tv, on_phone, abroad)
    await store(uow_factory, newer, older, stopped, expired_just_now, long_expired, strangers)
    async with uow_factory() as uow:
        live = await uow.streams.live_for_account(account.id, NOW)
    assert live == [older, newer]


async def test_open_streams_of_an_account_include_expired_ones_but_not_ended_ones(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    tv, phone = make_device(account), make_device(account)
    on_tv, on_phone = make_session(tv), make_session(phone)
    expired = make_stream(on_tv, started_at=T0, expires_at=NOW - timedelta(minutes=1))
    playing = make_stream(on_phone, started_at=T0 + timedelta(minutes=1), expires_at=LIVE_UNTIL)
    stopped = make_stream(on_phone, expires_at=LIVE_UNTIL)
    stopped.end(StreamEndReason.STOPPED, NOW)
    other = make_account()
    elsewhere = make_device(other)
    on_elsewhere = make_session(elsewhere)
    not_asked_for = make_stream(on_elsewhere, expires_at=LIVE_UNTIL)
    await store(uow_factory, account, other, tv, phone, elsewhere, on_tv, on_phone, on_elsewhere)
    await store(uow_factory, expired, playing, stopped, not_asked_for)
    async with uow_factory() as uow:
        found = await uow.streams.open_for_account(account.id)
        nothing = await uow.streams.open_for_account(make_account().id)
    assert found == [expired, playing]
    assert nothing == []


async def test_saving_a_stream_keeps_when_and_why_it_ended(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    streams = [make_stream(session) for _ in StreamEndReason]
    await store(uow_factory, *streams)
    for n, (stream, reason) in enumerate(zip(streams, StreamEndReason, strict=True)):
        stream.end(reason, NOW + timedelta(seconds=n))
    async with uow_factory() as uow:
        for stream in streams:
            await uow.streams.save(stream)
        await uow.commit()
    for stream in streams:
        stored = await stream_named(uow_factory, stream)
        assert stored == stream
        assert stored is not None
        assert isinstance(stored.end_reason, StreamEndReason)
    async with uow_factory() as uow:
        assert await uow.streams.open_for_account(session.account_id) == []


async def test_renewing_extends_a_live_stream_of_that_session(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    stream = make_stream(session, expires_at=NOW + timedelta(seconds=5))
    await store(uow_factory, stream)
    async with uow_factory() as uow:
        assert await uow.streams.renew(session.id, stream.id, LIVE_UNTIL, NOW)
        await uow.commit()
    stored = await stream_named(uow_factory, stream)
    assert stored is not None
    assert stored.expires_at == LIVE_UNTIL
    assert stored.is_live(NOW + timedelta(seconds=30))


async def test_renewing_is_refused_for_another_session_an_ended_or_an_expired_stream(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    tv, phone = make_device(account), make_device(account)
    on_tv, on_phone = make_session(tv), make_session(phone)
    phones = make_stream(on_phone, expires_at=LIVE_UNTIL)
    stopped = make_stream(on_tv, expires_at=LIVE_UNTIL)
    stopped.end(StreamEndReason.STOPPED_BY_OWNER, NOW - timedelta(seconds=1))
    expired_just_now = make_stream(on_tv, expires_at=NOW)
    await store(uow_factory, account, tv, phone, on_tv, on_phone)
    await store(uow_factory, phones, stopped, expired_just_now)
    later = NOW + timedelta(seconds=90)
    async with uow_factory() as uow:
        assert not await uow.streams.renew(on_tv.id, phones.id, later, NOW)
        assert not await uow.streams.renew(on_tv.id, stopped.id, later, NOW)
        assert not await uow.streams.renew(on_tv.id, expired_just_now.id, later, NOW)
        assert not await uow.streams.renew(on_tv.id, StreamId("no-such-stream"), later, NOW)
        await uow.commit()
    for unchanged in (phones, stopped, expired_just_now):
        assert await stream_named(uow_factory, unchanged) == unchanged


async def test_a_renewal_that_is_not_committed_is_forgotten(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    stream = make_stream(session, expires_at=LIVE_UNTIL)
    await store(uow_factory, stream)
    async with uow_factory() as uow:
        assert await uow.streams.renew(session.id, stream.id, LIVE_UNTIL + timedelta(1), NOW)
    assert await stream_named(uow_factory, stream) == stream


async def test_a_profile_a_stream_played_on_can_still_be_deleted(uow_factory: UowFactory) -> None:
    account = make_account()
    profile = make_profile(account)
    device = make_device(account)
    session = make_session(device)
    stream = make_stream(session, profile_id=profile.id)
    download = make_download(session, profile_id=profile.id)
    await store(uow_factory, account, profile, device, session, stream, download)
    async with uow_factory() as uow:
        await uow.profiles.delete(profile.id)
        await uow.commit()
    assert await stream_named(uow_factory, stream) == stream
    assert await download_named(uow_factory, download) == download


# Downloads


async def test_a_download_reads_back_and_only_for_its_account(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    stranger = make_account()
    download = make_download(session, title_id="81040344")
    await store(uow_factory, stranger, download)
    assert await download_named(uow_factory, download) == download
    async with uow_factory() as uow:
        assert await uow.downloads.get(stranger.id, download.id) is None
        assert await uow.downloads.get(session.account_id, DownloadId("no-such")) is None


async def test_live_downloads_exclude_revoked_and_expired_ones_and_come_oldest_first(
    uow_factory: UowFactory,
) -> None:
    account, stranger = make_account(), make_account()
    phone, tablet, elsewhere = make_device(account), make_device(account), make_device(stranger)
    on_phone, on_tablet, abroad = make_session(phone), make_session(tablet), make_session(elsewhere)
    newer = make_download(on_phone, created_at=T0 + timedelta(minutes=3))
    older = make_download(on_tablet, created_at=T0)
    deleted = make_download(on_phone, created_at=T0 + timedelta(minutes=1))
    deleted.revoke(DownloadEndReason.DELETED, NOW - timedelta(minutes=1))
    lapsed_just_now = make_download(on_tablet, expires_at=NOW)
    strangers = make_download(abroad)
    await store(uow_factory, account, stranger, phone, tablet, elsewhere)
    await store(uow_factory, on_phone, on_tablet, abroad)
    await store(uow_factory, newer, older, deleted, lapsed_just_now, strangers)
    async with uow_factory() as uow:
        live = await uow.downloads.live_for_account(account.id, NOW)
    assert live == [older, newer]


async def test_open_downloads_of_an_account_include_expired_ones_but_not_revoked_ones(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    phone, tablet = make_device(account), make_device(account)
    on_phone, on_tablet = make_session(phone), make_session(tablet)
    lapsed = make_download(on_phone, created_at=T0, expires_at=NOW - timedelta(days=1))
    kept = make_download(on_phone, created_at=T0 + timedelta(minutes=1))
    deleted = make_download(on_phone)
    deleted.revoke(DownloadEndReason.DELETED, NOW)
    on_tablet_too = make_download(on_tablet, created_at=T0 + timedelta(minutes=2))
    other = make_account()
    elsewhere = make_device(other)
    on_elsewhere = make_session(elsewhere)
    not_asked_for = make_download(on_elsewhere)
    await store(uow_factory, account, other, phone, tablet, elsewhere)
    await store(uow_factory, on_phone, on_tablet, on_elsewhere)
    await store(uow_factory, lapsed, kept, deleted, on_tablet_too, not_asked_for)
    async with uow_factory() as uow:
        found = await uow.downloads.open_for_account(account.id)
        nothing = await uow.downloads.open_for_account(make_account().id)
    assert found == [lapsed, kept, on_tablet_too]
    assert nothing == []


async def test_revoking_a_download_keeps_when_and_why(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    downloads = [make_download(session) for _ in DownloadEndReason]
    await store(uow_factory, *downloads)
    for n, (download, reason) in enumerate(zip(downloads, DownloadEndReason, strict=True)):
        download.revoke(reason, NOW + timedelta(seconds=n))
    async with uow_factory() as uow:
        for download in downloads:
            await uow.downloads.save(download)
        await uow.commit()
    for download in downloads:
        stored = await download_named(uow_factory, download)
        assert stored == download
        assert stored is not None
        assert isinstance(stored.revoke_reason, DownloadEndReason)
    async with uow_factory() as uow:
        assert await uow.downloads.open_for_account(session.account_id) == []
        assert await uow.downloads.live_for_account(session.account_id, NOW) == []


# Time


async def test_stream_and_download_datetimes_come_back_aware_and_equal(
    uow_factory: UowFactory,
) -> None:
    lisbon_summer = timezone(timedelta(hours=1))
    at = NOW.astimezone(lisbon_summer).replace(microsecond=654321)
    _, _, session = await a_signed_in_device(uow_factory)
    stream = make_stream(session, started_at=at, expires_at=at, ended_at=at)
    download = make_download(session, created_at=at, expires_at=at, revoked_at=at)
    await store(uow_factory, stream, download)
    found_stream = await stream_named(uow_factory, stream)
    found_download = await download_named(uow_factory, download)
    assert found_stream is not None
    assert found_download is not None
    moments = [
        found_stream.started_at,
        found_stream.expires_at,
        found_stream.ended_at,
        found_download.created_at,
        found_download.expires_at,
        found_download.revoked_at,
    ]
    for moment in moments:
        assert moment is not None
        assert moment.tzinfo is not None
        assert moment == at
