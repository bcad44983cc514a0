"""The event bus across instances, on a real Redis and on a real PostgreSQL (LISTEN/NOTIFY): what
one instance publishes, every other receives whole and in order; the sender is not told twice;
an unreadable message, or a lost subscription, forgets every cache."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest

from screengate.adapters.postgres import PostgresBus
from screengate.adapters.redis import RedisBus, redis_client
from screengate.adapters.relay import RelayedBus
from screengate.adapters.sql.engine import plain_dsn
from screengate.adapters.wire import decode, encode
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.notices import (
    Announcement,
    BusMessage,
    CodeDecided,
    Delivery,
    Notice,
    NoticeData,
    NoticeKind,
)
from tests.contract.conftest import (
    NO_POSTGRES,
    NO_REDIS,
    POSTGRES_URL_VARIABLE,
    REDIS_URL_VARIABLE,
)

AT = datetime(2026, 11, 21, 18, 0, 0, 123456, tzinfo=UTC)
ACCOUNT = AccountId("acct")


def a_sign_out_of_all_devices(devices: int) -> Announcement:
    """What "Sign out of all devices" announces: per device its stream ended (one of them),
    its downloads revoked (another), then that it was signed out, all sharing one reason."""
    signed_out: NoticeData = {
        "reason": "signed_out_everywhere",
        "detail": "Signed out of all devices.",
    }
    notices: list[Notice] = []
    for n in range(devices):
        session, device = SessionId(f"s{n}"), DeviceId(f"d{n}")

        def notice(kind: NoticeKind, data: NoticeData) -> None:
            notices.append(Notice(f"a.{len(notices)}", kind, ACCOUNT, session, device, AT, data))  # noqa: B023

        if n == 1:
            notice(NoticeKind.STREAM_ENDED, {"stream_id": "st1", "reason": "signed_out"})
        if n == 2:
            notice(NoticeKind.DOWNLOADS_REVOKED, {"download_ids": ["x", "y"], "reason": "r"})
        notice(NoticeKind.SIGNED_OUT, signed_out)
    return Announcement(
        id="a",
        account_id=ACCOUNT,
        revoked=tuple(SessionId(f"s{n}") for n in range(devices)),
        notices=tuple(notices),
    )


def test_a_message_reads_back_as_it_was_written() -> None:
    announcement = a_sign_out_of_all_devices(5)
    delivery = Delivery("a", (SessionId("s1"), SessionId("s2")), AT)
    assert decode(encode(announcement)) == announcement
    assert decode(encode(delivery)) == delivery
    assert decode(encode(Announcement(id="b", account_id=ACCOUNT))) == Announcement(
        id="b", account_id=ACCOUNT
    )
    decided = CodeDecided("authorization-1", "approved")
    assert decode(encode(decided)) == decided


async def test_every_other_instance_hears_that_a_tv_code_was_decided(instances: NewBus) -> None:
    (a, _), (b, on_b) = instances(), instances()
    for bus in (a, b):
        await bus.start()
    decided = CodeDecided("authorization-1", "approved")
    await a.publish(decided)
    await _until(lambda: on_b == [decided])


def test_what_ten_thousand_notices_share_is_written_once() -> None:
    small, large = encode(a_sign_out_of_all_devices(10)), encode(a_sign_out_of_all_devices(10_010))
    per_device = (len(large) - len(small)) / 10_000
    assert per_device < 60  # its ids and its place, not its reason and detail again
    assert large.count(b"Signed out of all devices.") == 1


Received = list[BusMessage]
NewBus = Callable[[], tuple[RelayedBus, Received]]


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[Transport]:
    """One deployment's channel on a real Redis or PostgreSQL, and a way to say anything on it."""
    channel = f"screengate_test_{uuid.uuid4().hex}"
    if request.param == "redis":
        url = os.environ.get(REDIS_URL_VARIABLE)
        if not url:
            pytest.skip(NO_REDIS)
        redis = redis_client(url)
        yield Transport(
            lambda: RedisBus(redis, channel=channel),
            lambda payload: redis.publish(channel, payload),
        )
        await redis.aclose()
        return
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(NO_POSTGRES)
    dsn = plain_dsn(url)
    admin = await asyncpg.connect(dsn)

    async def say(payload: bytes) -> object:
        return await admin.execute("SELECT pg_notify($1, $2)", channel, payload.decode())

    yield Transport(lambda: PostgresBus(dsn, channel=channel), say, admin)
    await admin.close()


class Transport:
    def __init__(
        self,
        new_bus: Callable[[], RelayedBus],
        say: Callable[[bytes], Awaitable[object]],
        admin: asyncpg.Connection | None = None,
    ) -> None:
        self.new_bus, self.say, self.admin = new_bus, say, admin


@pytest.fixture
async def instances(transport: Transport) -> AsyncIterator[NewBus]:
    """Instances of one deployment on one channel, each recording what it was handed."""
    started: list[RelayedBus] = []

    def new() -> tuple[RelayedBus, Received]:
        bus, received = transport.new_bus(), []

        async def record(message: BusMessage) -> None:
            received.append(message)

        bus.subscribe(record)
        started.append(bus)
        return bus, received

    yield new
    for bus in started:
        await bus.stop()


@pytest.mark.parametrize("devices", [3, 10_000])
async def test_every_other_instance_receives_an_announcement_whole_and_once(
    instances: NewBus, devices: int
) -> None:
    (a, on_a), (b, on_b), (c, on_c) = instances(), instances(), instances()
    for bus in (a, b, c):
        await bus.start()
    announcement = a_sign_out_of_all_devices(devices)
    delivery = Delivery("a", (SessionId("s1"),), AT)

    await a.publish(announcement)
    await b.publish(delivery)

    await _until(lambda: len(on_b) == 2 and len(on_c) == 2)
    assert on_b == [delivery, announcement] or on_b == [announcement, delivery]
    assert on_c == [announcement, delivery]
    await asyncio.sleep(0.1)  # an echo would have arrived by now
    assert on_a == [announcement, delivery]


async def test_an_unreadable_message_makes_an_instance_forget_its_caches(
    transport: Transport, instances: NewBus
) -> None:
    (b, on_b) = instances()
    told: list[bool] = []
    b.on_state(told.append)
    await b.start()
    assert told == [True]

    await transport.say(b'someone-else\n{"type":"announcement","id":')

    await _until(lambda: len(told) == 2)
    assert told == [True, True]
    assert on_b == []
    assert b.connected


async def test_names_in_any_script_cross_a_notify_in_pieces_intact(instances: NewBus) -> None:
    """PostgreSQL cuts a big message into pieces by bytes: never inside a character."""
    (a, _), (b, on_b) = instances(), instances()
    await a.start()
    await b.start()
    names: NoticeData = {"reason": "signed_out_everywhere", "detail": "Ünïcødé 📺 " * 2_000}
    notices = tuple(
        Notice(
            f"a.{n}", NoticeKind.SIGNED_OUT, ACCOUNT, SessionId(f"s{n}"), DeviceId("d"), AT, names
        )
        for n in range(3)
    )
    announcement = Announcement(id="a", account_id=ACCOUNT, notices=notices)
    await a.publish(announcement)
    await _until(lambda: len(on_b) == 1)
    assert on_b == [announcement]


@pytest.mark.postgres
async def test_a_killed_listening_connection_is_noticed_and_followed_again() -> None:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(NO_POSTGRES)
    channel = f"screengate_test_{uuid.uuid4().hex}"
    a, b = (
        PostgresBus(plain_dsn(url), channel=channel),
        PostgresBus(plain_dsn(url), channel=channel),
    )
    on_b: Received = []
    told: list[bool] = []

    async def record(message: BusMessage) -> None:
        on_b.append(message)

    b.subscribe(record)
    b.on_state(told.append)
    admin = await asyncpg.connect(plain_dsn(url))
    try:
        await a.start()
        await b.start()
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"screengate bus listener {b.instance_id[:12]}",
        )
        await _until(lambda: told[-2:] == [False, True], tries=300)
        delivery = Delivery("a", (SessionId("s1"),), AT)
        await a.publish(delivery)
        await _until(lambda: on_b == [delivery])
    finally:
        await admin.close()
        await a.stop()
        await b.stop()


async def _until(condition: Callable[[], bool], tries: int = 100) -> None:
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.02)
    assert condition()
