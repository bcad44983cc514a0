"""Presence (which devices hold an open event stream): the same promises in one process and
across instances, on a real Redis and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from screengate.adapters.hub import LocalPresence
from screengate.adapters.postgres import PostgresPresence
from screengate.adapters.postgres import presence as postgres_presence
from screengate.adapters.redis import RedisPresence, redis_client
from screengate.adapters.redis import presence as redis_presence
from screengate.adapters.sql import create_engine_for, upgrade
from screengate.adapters.sql.engine import plain_dsn
from screengate.domain.ids import SessionId
from screengate.ports import Presence
from tests.contract.conftest import NO_REDIS, REDIS_URL_VARIABLE
from tests.contract.factories import new_id

NewPresence = Callable[[], Presence]


SHARED = [
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=SHARED)
async def instances(request: pytest.FixtureRequest) -> AsyncIterator[NewPresence]:
    """Instances of one deployment, each its own presence, all on one Redis or PostgreSQL."""
    async with _shared(request, str(request.param)) as new:
        yield new


@asynccontextmanager
async def _shared(request: pytest.FixtureRequest, kind: str) -> AsyncIterator[NewPresence]:
    made: list[RedisPresence | PostgresPresence] = []
    redis: Redis | None = None
    prefix = f"screengate-test-{uuid.uuid4().hex}"
    if kind == "redis":
        url = os.environ.get(REDIS_URL_VARIABLE)
        if not url:
            pytest.skip(NO_REDIS)
        client = redis = redis_client(url)

        def new() -> Presence:
            made.append(RedisPresence(client, uuid.uuid4().hex, prefix=prefix))
            return made[-1]

    else:
        dsn = await _presence_database(request.getfixturevalue("shared_postgres_url"))

        def new() -> Presence:
            made.append(PostgresPresence(dsn, uuid.uuid4().hex))
            return made[-1]

    try:
        yield new
    finally:
        for presence in made:
            await presence.stop()
        if redis is not None:
            keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()


async def _presence_database(url: str) -> str:
    await upgrade(url)
    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DELETE FROM presence")
    finally:
        await engine.dispose()
    return plain_dsn(url)


@pytest.fixture(params=["local", *SHARED])
async def presence(request: pytest.FixtureRequest) -> AsyncIterator[Presence]:
    if request.param == "local":
        yield LocalPresence()
        return
    async with _shared(request, str(request.param)) as new:
        yield new()


# Small batches, so that crossing a batch's edge costs a test a thousand joins, not five.
BATCH = 1_000


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (redis_presence, postgres_presence):
        monkeypatch.setattr(module, "BATCH", BATCH)


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
    many = sessions(BATCH * 2 + 10)
    for session in many[::2]:
        await presence.join(session)
    assert await presence.connected(many) == set(many[::2])


async def test_an_instance_sees_the_streams_another_holds(instances: NewPresence) -> None:
    a, b = instances(), instances()
    many = sessions(BATCH + 10)
    for session in many[:-1]:
        await b.join(session)
    assert await a.connected(many) == set(many[:-1])
    await b.leave(many[0])
    await _until(lambda: a.connected(many[:1]), set())
    assert await a.connected(many[1:]) == set(many[1:-1])


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


@pytest.mark.postgres
async def test_a_row_of_an_instance_that_died_lapses(shared_postgres_url: str) -> None:
    dsn = await _presence_database(shared_postgres_url)
    alive = PostgresPresence(dsn, "alive")
    (tv,) = sessions(1)
    engine = create_engine_for(shared_postgres_url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "INSERT INTO presence VALUES ($1, 'dead', $2)",
                (str(tv), int(time.time() * 1000) - 1),
            )
        assert await alive.connected([tv]) == set()
    finally:
        await engine.dispose()
        await alive.stop()


async def _until(ask: Callable[[], object], expected: object) -> None:
    """Ask until the answer is the expected one, for at most two seconds."""
    deadline = time.monotonic() + 2.0
    while True:
        answer = await ask()  # type: ignore[misc]
        if answer == expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    assert answer == expected
