"""A stream whose device stopped checking in is ended by the server's own sweep: its row is
closed (reason `expired`) and the device is told at once, `stream_ended {reason: expired}`."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import api_client, settings_for
from tests.api.test_events import finish, listen
from tests.support.api import Device, sign_in, sign_up
from tests.support.clock import FrozenClock
from tests.support.databases import migrated_database
from tests.support.live_server import LiveServer, live_server

REDIS_ENV = "SCREENGATE_TEST_REDIS_URL"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    with live_server(settings_for(database_url, sweep_seconds=0.1), FrozenClock()) as running:
        yield running


def play(client: httpx.Client, device: Device) -> str:
    profile = client.get("/v1/profiles", headers=device.auth).json()[0]["profile_id"]
    started = client.post(
        "/v1/streams",
        json={"profile_id": profile, "title_id": "night-harbour"},
        headers=device.auth,
    )
    assert started.status_code == 201, started.text
    stream_id: str = started.json()["stream_id"]
    return stream_id


def an_unrenewed_lease_ends_and_its_device_is_told(
    server: LiveServer, client: httpx.Client
) -> None:
    account = sign_up(client)
    tv = sign_in(client, account, "Living Room TV", "smart_tv")
    stream_id = play(client, tv)
    listening = listen(server, tv)
    server.clock.advance(timedelta(seconds=91))  # past the 90 s lease, no heartbeat
    deadline = time.monotonic() + 10
    while "stream_ended" not in listening.kinds() and time.monotonic() < deadline:
        time.sleep(0.05)
    phone = sign_in(client, account, "Phone", "phone")  # a fresh token after the jump
    sign_out = client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)
    assert sign_out.status_code == 200  # ends the listener
    finish(listening)
    ended = [data for kind, _, data in listening.events if kind == "stream_ended"]
    assert ended[0]["stream_id"] == stream_id, listening.events
    assert ended[0]["reason"] == "expired"
    heartbeat = client.post(f"/v1/streams/{stream_id}/heartbeat", headers=phone.auth)
    assert heartbeat.status_code in {404, 410}


def test_an_unrenewed_lease_is_ended_and_its_device_told_stream_ended_expired(
    server: LiveServer, client: httpx.Client
) -> None:
    an_unrenewed_lease_ends_and_its_device_is_told(server, client)


def test_with_redis_leases_too(database_url: str, tmp_path: Path) -> None:
    redis_url = os.environ.get(REDIS_ENV)
    if not database_url.startswith("postgresql") or not redis_url:
        pytest.skip("Redis leases need PostgreSQL and SCREENGATE_TEST_REDIS_URL")
    # A database of its own: every instance on one database shares one bus and one clock.
    with (
        migrated_database("postgresql", tmp_path) as url,
        live_server(settings_for(url, redis_url=redis_url, sweep_seconds=0.1)) as running,
        api_client(running.base_url) as client,
    ):
        an_unrenewed_lease_ends_and_its_device_is_told(running, client)
