"""Presence (which devices hold an open event stream): the same promises in one process and
across instances on a real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from screengate.adapters.hub import LocalPresence
from screengate.adapters.redis import RedisPresence
from screengate.adapters.redis.presence import BATCH
from screengate.domain.ids import SessionId
from screengate.ports import Presence
from tests.contract.factories import new_id

NewPresence = Callable[[], Presence]


@pytest.fixture
async def instances(redis: Redis, key_prefix: str) -> AsyncIterator[NewPresence]:
    """Instances of one deployment: each its own RedisPresence, all on one Redis."""
    made: list[RedisPresence] = []

    def new() -> Presence:
        made.append(RedisPresence(redis, uuid.uuid4().hex, prefix=key_prefix))
        return made[-1]

    yield new
    for presence in made:
        await presence.stop()


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def presence(request: pytest.FixtureRequest) -> Presence:
    if request.param == "local":
        return LocalPresence()
    new: NewPresence = request.getfixturevalue("instances")
    return new()


def sessions(count: int) -> list[SessionId]:
    return [SessionId(new_id()) for _ in range(count)]


async def test_a_session_is_connected_while_any_of_its_streams_is_open(presence: Presence) -> None:
    tv, phone = sessions(2)
    await presence.join(tv)
    await presence.join(tv)
    assert await presence.connected([tv, phone]) == {tv}
    await presence.leave(tv)
    assert await presence.connected([tv, phone]) == {tv}
    await presence.leave(tv)
    assert await presence.connected([tv, phone]) == set()
    assert await presence.connected([]) == set()


async def test_thousands_of_sessions_are_answered_at_once(presence: Presence) -> None:
    many = sessions(BATCH + 1_000)
    for session in many[::2]:
        await presence.join(session)
    assert await presence.connected(many) == set(many[::2])


@pytest.mark.redis
async def test_an_instance_sees_the_streams_another_holds(instances: NewPresence) -> None:
    a, b = instances(), instances()
    many = sessions(BATCH + 10)
    for session in many[:-1]:
        await b.join(session)
    assert await a.connected(many) == set(many[:-1])
    await b.leave(many[0])
    await _until(lambda: a.connected(many[:1]), set())
    assert await a.connected(many[1:]) == set(many[1:-1])


@pytest.mark.redis
async def test_a_session_open_on_two_instances_stays_when_one_leaves(
    instances: NewPresence,
) -> None:
    a, b, c = instances(), instances(), instances()
    (tv,) = sessions(1)
    await a.join(tv)
    await b.join(tv)
    await a.leave(tv)
    await asyncio.sleep(0.2)  # past the batched leave
    assert await c.connected([tv]) == {tv}


@pytest.mark.redis
async def test_coming_back_before_the_batched_leave_keeps_the_session(
    instances: NewPresence,
) -> None:
    a, b = instances(), instances()
    (tv,) = sessions(1)
    await a.join(tv)
    await a.leave(tv)
    await a.join(tv)
    await asyncio.sleep(0.2)
    assert await b.connected([tv]) == {tv}


@pytest.mark.redis
async def test_an_entry_of_an_instance_that_died_lapses(redis: Redis, key_prefix: str) -> None:
    alive = RedisPresence(redis, "alive", prefix=key_prefix)
    (tv,) = sessions(1)
    # What a dead instance leaves: an entry whose time ran out and was never refreshed.
    await redis.hset(f"{key_prefix}:presence:{tv}", "dead", int(time.time() * 1000) - 1)
    assert await alive.connected([tv]) == set()


async def _until(ask: Callable[[], object], expected: object) -> None:
    """Ask until the answer is the expected one, for at most two seconds."""
    deadline = time.monotonic() + 2.0
    while True:
        answer = await ask()  # type: ignore[misc]
        if answer == expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert answer == expected
