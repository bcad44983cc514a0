"""The event bus across instances on a real Redis: what one instance publishes, every other
receives whole and in order; the sender is not told twice; an unreadable message forgets
every cache."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from screengate.adapters.redis import RedisBus
from screengate.adapters.redis.bus import decode, encode
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.notices import (
    Announcement,
    BusMessage,
    Delivery,
    Notice,
    NoticeData,
    NoticeKind,
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


def test_what_ten_thousand_notices_share_is_written_once() -> None:
    small, large = encode(a_sign_out_of_all_devices(10)), encode(a_sign_out_of_all_devices(10_010))
    per_device = (len(large) - len(small)) / 10_000
    assert per_device < 60  # its ids and its place, not its reason and detail again
    assert large.count(b"Signed out of all devices.") == 1


Received = list[BusMessage]


@pytest.fixture
def channel() -> str:
    return f"screengate-test-{uuid.uuid4().hex}"


@pytest.fixture
async def instances(
    redis: Redis, channel: str
) -> AsyncIterator[Callable[[], tuple[RedisBus, Received]]]:
    """Instances of one deployment on one channel, each recording what it was handed."""
    started: list[RedisBus] = []

    def new() -> tuple[RedisBus, Received]:
        bus, received = RedisBus(redis, channel=channel), []

        async def record(message: BusMessage) -> None:
            received.append(message)

        bus.subscribe(record)
        started.append(bus)
        return bus, received

    yield new
    for bus in started:
        await bus.stop()


pytestmark = pytest.mark.redis


async def test_every_other_instance_receives_an_announcement_whole_and_once(
    instances: Callable[[], tuple[RedisBus, Received]],
) -> None:
    (a, on_a), (b, on_b), (c, on_c) = instances(), instances(), instances()
    for bus in (a, b, c):
        await bus.start()
    announcement = a_sign_out_of_all_devices(300)
    delivery = Delivery("a", (SessionId("s1"),), AT)

    await a.publish(announcement)
    await b.publish(delivery)

    await _until(lambda: len(on_b) == 2 and len(on_c) == 2)
    assert on_b == [delivery, announcement] or on_b == [announcement, delivery]
    assert on_c == [announcement, delivery]
    await asyncio.sleep(0.1)  # an echo would have arrived by now
    assert on_a == [announcement, delivery]


async def test_an_unreadable_message_makes_an_instance_forget_its_caches(
    redis: Redis, channel: str, instances: Callable[[], tuple[RedisBus, Received]]
) -> None:
    (b, on_b) = instances()
    told: list[bool] = []
    b.on_state(told.append)
    await b.start()
    assert told == [True]

    await redis.publish(channel, b'someone-else\n{"type":"announcement","id":')

    await _until(lambda: len(told) == 2)
    assert told == [True, True]
    assert on_b == []
    assert b.connected


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.02)
    assert condition()
