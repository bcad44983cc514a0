"""The device client against a real server: sign-outs pushed at once, heartbeats, refresh."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from contextlib import aclosing
from datetime import timedelta

import pytest

from screengate.client import (
    DeviceSession,
    DownloadsRevokedEvent,
    Event,
    Playback,
    ScreengateClient,
    SignedOutError,
    SignedOutEvent,
    StreamEndedEvent,
    TooManyStreamsError,
)
from tests.client.conftest import LEASE_SECONDS, PASSWORD, new_email, tv_and_phone
from tests.support.live_server import LiveServer

TOLD_WITHIN = 2.0  # seconds


async def listening(device: DeviceSession) -> asyncio.Task[list[Event]]:
    """The device's events, collected until its stream ends; returns once it is connected."""
    connected = asyncio.Event()

    async def collect() -> list[Event]:
        async with aclosing(device.events(on_connect=connected.set)) as events:
            return [event async for event in events]

    task = asyncio.create_task(collect())
    await asyncio.wait_for(connected.wait(), 5)
    return task


async def first_profile(device: DeviceSession) -> str:
    return (await device.profiles())[0].profile_id


async def play(device: DeviceSession, title: str = "night-harbour") -> Playback:
    return await device.play(await first_profile(device), title)


# Told at once


async def test_a_listening_tv_is_told_within_two_seconds_that_the_phone_signed_it_out(
    client: ScreengateClient,
) -> None:
    tv, phone = await tv_and_phone(client)
    tv_events = await listening(tv)

    started = time.monotonic()
    assert await phone.sign_out_device(tv.device_id) == [tv.device_id]
    events = await asyncio.wait_for(tv_events, TOLD_WITHIN)

    assert time.monotonic() - started < TOLD_WITHIN
    assert len(events) == 1, events
    told = events[0]
    assert isinstance(told, SignedOutEvent)
    assert told.reason == "signed_out_remotely"
    assert told.detail == "You were signed out from another device."
    assert told.id is not None
    assert told.at is not None


async def test_sign_out_everywhere_says_which_devices_were_told_live(
    client: ScreengateClient,
) -> None:
    tv, phone = await tv_and_phone(client)
    laptop = await client.sign_in((await phone.account()).email, PASSWORD, "web_browser")
    tv_events = await listening(tv)

    receipt = await phone.sign_out_everywhere(keep_this_device=True)

    notified = {entry.device_id: entry.notified for entry in receipt}
    assert notified == {tv.device_id: True, laptop.device_id: False}
    (told,) = await asyncio.wait_for(tv_events, TOLD_WITHIN)
    assert isinstance(told, SignedOutEvent)
    assert told.reason == "signed_out_everywhere"
    assert [d.device_id for d in await phone.devices()] == [phone.device_id]


async def test_a_changed_password_signs_out_the_listening_tv_with_that_reason(
    client: ScreengateClient,
) -> None:
    tv, phone = await tv_and_phone(client)
    tv_events = await listening(tv)

    await phone.change_password(PASSWORD, "a much newer passphrase 42")

    (told,) = await asyncio.wait_for(tv_events, TOLD_WITHIN)
    assert isinstance(told, SignedOutEvent)
    assert told.reason == "password_changed"
    assert (await phone.account()).email


async def test_a_signed_out_tv_hears_its_stream_end_and_downloads_go_before_the_sign_out(
    client: ScreengateClient,
) -> None:
    tv, phone = await tv_and_phone(client)
    download = await tv.download(await first_profile(tv), "wild-coasts")
    assert [d.download_id for d in await tv.downloads()] == [download.download_id]
    playback = await play(tv)
    tv_events = await listening(tv)

    await phone.sign_out_device(tv.device_id)

    ended, revoked, signed_out = await asyncio.wait_for(tv_events, TOLD_WITHIN)
    assert isinstance(ended, StreamEndedEvent)
    assert (ended.stream_id, ended.reason) == (playback.stream_id, "signed_out_remotely")
    assert isinstance(revoked, DownloadsRevokedEvent)
    assert revoked.download_ids == (download.download_id,)
    assert isinstance(signed_out, SignedOutEvent)
    assert await asyncio.wait_for(playback.wait(), LEASE_SECONDS) == "signed_out_remotely"


async def test_a_device_signed_out_while_not_listening_learns_why_when_it_listens(
    client: ScreengateClient,
) -> None:
    tv, phone = await tv_and_phone(client)
    await phone.sign_out_everywhere(keep_this_device=True)

    async with aclosing(tv.events()) as stream:
        events = [event async for event in stream]

    assert len(events) == 1
    assert isinstance(events[0], SignedOutEvent)
    assert events[0].reason == "signed_out_everywhere"
    assert events[0].id is None


async def test_a_signed_out_device_is_refused_with_the_reason(client: ScreengateClient) -> None:
    tv, phone = await tv_and_phone(client)
    await phone.sign_out_device(tv.device_id)

    with pytest.raises(SignedOutError) as refused:
        await tv.account()

    assert (refused.value.status, refused.value.code) == (401, "signed_out")
    assert refused.value.reason == "signed_out_remotely"
    assert refused.value.detail == "You were signed out from another device."


# Playback


async def test_heartbeats_keep_playback_alive_well_past_the_lease(
    server: LiveServer, client: ScreengateClient
) -> None:
    tv, phone = await tv_and_phone(client)
    playback = await play(tv)
    assert playback.heartbeat_interval == 1

    for _ in range(LEASE_SECONDS + 2):  # the server's clock moves as real time does
        await asyncio.sleep(1)
        server.clock.advance(timedelta(seconds=1))

    assert not playback.ended
    assert playback.heartbeats >= LEASE_SECONDS
    assert [s.stream_id for s in await phone.streams()] == [playback.stream_id]
    await playback.stop()
    assert playback.end_reason == "stopped"
    assert await phone.streams() == []


async def test_a_playback_that_missed_its_lease_reports_that_it_expired(
    server: LiveServer, client: ScreengateClient
) -> None:
    tv, _ = await tv_and_phone(client)
    playback = await play(tv)

    server.clock.advance(timedelta(seconds=LEASE_SECONDS + 1))  # no heartbeat in between

    assert await asyncio.wait_for(playback.wait(), 3) == "expired"


async def test_stopping_playback_from_another_device_ends_it_as_stopped_by_owner(
    client: ScreengateClient,
) -> None:
    tv, phone = await tv_and_phone(client)
    playback = await play(tv)
    connected = asyncio.Event()

    async with aclosing(tv.events(on_connect=connected.set)) as tv_events:
        first_event = asyncio.ensure_future(anext(tv_events))
        await asyncio.wait_for(connected.wait(), 5)
        await phone.stop_stream(playback.stream_id)
        told = await asyncio.wait_for(first_event, TOLD_WITHIN)

    assert isinstance(told, StreamEndedEvent)
    assert (told.stream_id, told.reason) == (playback.stream_id, "stopped_by_owner")
    assert await asyncio.wait_for(playback.wait(), 3) == "stopped_by_owner"
    assert playback.end_detail == "Playback was stopped from another device on the account."


async def test_too_many_streams_names_the_device_holding_the_screen(
    client: ScreengateClient,
) -> None:
    tv, phone = await tv_and_phone(client, plan="basic")
    async with await play(tv):
        with pytest.raises(TooManyStreamsError) as refused:
            await play(phone, "wild-coasts")

    assert refused.value.limit == 1
    assert [held["device_name"] for held in refused.value.active] == ["Living Room TV"]


# Tokens


async def test_an_expired_access_token_is_refreshed_once_however_many_calls_need_it(
    server: LiveServer, client: ScreengateClient
) -> None:
    tv, _ = await tv_and_phone(client)
    before = tv.tokens

    server.clock.advance(timedelta(seconds=901))  # access tokens last 15 minutes
    accounts = await asyncio.gather(*(tv.account() for _ in range(5)))

    assert {a.email for a in accounts} == {accounts[0].email}
    assert tv.tokens.refresh_token != before.refresh_token
    assert tv.tokens.session_id == before.session_id
    # A second refresh would have replayed the spent token, and that signs a device out.
    assert [d.current for d in await tv.devices()].count(True) == 1


async def test_a_refused_refresh_raises_signed_out_with_the_reason(
    server: LiveServer, client: ScreengateClient
) -> None:
    tv, phone = await tv_and_phone(client)
    await phone.sign_out_device(tv.device_id)
    server.clock.advance(timedelta(seconds=901))

    with pytest.raises(SignedOutError) as refused:
        await tv.account()

    assert refused.value.reason == "signed_out_remotely"


async def test_no_token_or_password_shows_in_reprs_errors_or_logs(
    server: LiveServer, client: ScreengateClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    email = new_email()
    await client.sign_up(email, PASSWORD)
    tv = await client.sign_in(email, PASSWORD, "smart_tv")
    first = tv.tokens
    server.clock.advance(timedelta(seconds=901))
    await tv.account()
    await tv.sign_out()
    with pytest.raises(SignedOutError) as refused:
        await tv.devices()

    shown = [repr(tv), repr(tv.tokens), repr(client), repr(refused.value), str(refused.value)]
    shown.append(caplog.text)
    secrets = [PASSWORD, first.access_token, first.refresh_token, tv.tokens.access_token]
    secrets.append(tv.tokens.refresh_token)
    for text in shown:
        for secret in secrets:
            assert secret not in text


async def test_a_device_that_stopped_listening_is_not_reported_as_told(
    client: ScreengateClient,
) -> None:
    tv, phone = await tv_and_phone(client)
    connected = asyncio.Event()
    async with aclosing(tv.events(on_connect=connected.set)) as tv_events:
        waiting = asyncio.ensure_future(anext(tv_events))
        await asyncio.wait_for(connected.wait(), 5)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
    await asyncio.sleep(0.5)  # the server hears the connection close

    receipt = await phone.sign_out_everywhere(keep_this_device=True)

    assert [(entry.device_id, entry.notified) for entry in receipt] == [(tv.device_id, False)]


async def test_a_device_keeps_its_secret_through_refreshes_and_signs_in_again_as_itself(
    server: LiveServer, client: ScreengateClient
) -> None:
    email = new_email()
    await client.sign_up(email, PASSWORD)
    tv = await client.sign_in(email, PASSWORD, "smart_tv", "Living Room TV")
    secret = tv.device_secret
    assert secret
    assert secret not in repr(tv) + repr(tv.tokens)
    before = tv.tokens
    server.clock.advance(timedelta(seconds=901))  # the next call refreshes
    await tv.account()
    assert tv.tokens.refresh_token != before.refresh_token
    assert tv.device_secret == secret  # a refresh gives none: the sign-in's is kept
    await tv.sign_out()

    again = await client.sign_in(
        email, PASSWORD, "smart_tv", device_id=tv.device_id, device_secret=secret
    )
    assert again.device_id == tv.device_id
    assert again.device_secret not in (None, secret)
    stranger = await client.sign_in(email, PASSWORD, "smart_tv", device_id=tv.device_id)
    assert stranger.device_id != tv.device_id
