"""The client against a real server: uvicorn in a thread, SQLite, a frozen clock, short leases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from screengate.client import DeviceSession, ScreengateClient
from screengate.config import Settings
from tests.support.clock import FrozenClock
from tests.support.databases import migrated_database
from tests.support.live_server import LiveServer, live_server

PASSWORD = "correct horse battery staple"
HEARTBEAT_SECONDS = 1
LEASE_SECONDS = 3


def client_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        stream_heartbeat_seconds=HEARTBEAT_SECONDS,
        stream_lease_seconds=LEASE_SECONDS,
        sign_in_limit_per_client="10000/minute",
        sign_in_concurrency_per_client=1000,
        log_level="WARNING",
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with (
        migrated_database("sqlite", tmp_path_factory.mktemp("client")) as url,
        live_server(client_settings(url), FrozenClock()) as running,
    ):
        yield running


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[ScreengateClient]:
    async with ScreengateClient(server.base_url) as screengate:
        yield screengate


def new_email() -> str:
    return f"viewer-{uuid.uuid4().hex[:12]}@example.com"


async def tv_and_phone(
    client: ScreengateClient, plan: str = "premium"
) -> tuple[DeviceSession, DeviceSession]:
    """A new account with a Living Room TV and a phone signed in."""
    email = new_email()
    await client.sign_up(email, PASSWORD, plan)
    tv = await client.sign_in(email, PASSWORD, "smart_tv", name="Living Room TV")
    phone = await client.sign_in(email, PASSWORD, "phone", name="Sam's phone")
    return tv, phone
