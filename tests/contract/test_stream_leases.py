"""Stream-slot leases on a real Redis: what the Lua scripts promise, alone and under contention."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from redis.asyncio import Redis

from screengate.adapters.redis import RedisStreamLeases
from screengate.domain.ids import AccountId, DeviceId, ProfileId, SessionId, StreamId
from screengate.domain.streams import Stream
from tests.contract.factories import T0, new_id

pytestmark = pytest.mark.redis

LEASE = timedelta(seconds=90)
NOW = T0


@pytest.fixture
def leases(redis: Redis, key_prefix: str) -> RedisStreamLeases:
    return RedisStreamLeases(redis, key_prefix=key_prefix)


def an_account() -> AccountId:
    return AccountId(new_id())


def a_session() -> SessionId:
    return SessionId(new_id())


def a_stream() -> StreamId:
    return StreamId(new_id())


async def play(
    leases: RedisStreamLeases,
    account: AccountId,
    session: SessionId,
    *,
    limit: int,
    at: datetime = NOW,
) -> tuple[StreamId, bool, tuple[StreamId, ...]]:
    """Acquire a fresh stream's lease: (its id, admitted, holders or replaced)."""
    stream = a_stream()
    grant = await leases.acquire(
        record(account, session, stream, at, at + LEASE), limit=limit, now=at
    )
    if grant.admitted:
        return stream, True, grant.replaced
    return stream, False, tuple(holder.id for holder in grant.holders)


def record(
    account: AccountId, session: SessionId, stream: StreamId, at: datetime, expires_at: datetime
) -> Stream:
    """The stream record a lease carries, as the service builds it."""
    return Stream(
        id=stream,
        account_id=account,
        session_id=session,
        device_id=DeviceId(f"device-of-{session}"),
        profile_id=ProfileId("profile"),
        title_id="night-harbour",
        started_at=at,
        expires_at=expires_at,
    )


async def live_ids(leases: RedisStreamLeases, account: AccountId, at: datetime) -> list[StreamId]:
    return [stream.id for stream in await leases.live(account, at)]


async def test_leases_are_admitted_up_to_the_limit_then_refused_naming_the_holders(
    leases: RedisStreamLeases,
) -> None:
    account = an_account()
    tv, ok_tv, replaced_tv = await play(leases, account, a_session(), limit=2)
    phone, ok_phone, replaced_phone = await play(leases, account, a_session(), limit=2)
    refused, ok_third, holders = await play(leases, account, a_session(), limit=2)
    assert (ok_tv, ok_phone, ok_third) == (True, True, False)
    assert replaced_tv == replaced_phone == ()
    assert sorted(holders) == sorted([tv, phone])
    assert sorted(await live_ids(leases, account, NOW)) == sorted([tv, phone])
    assert refused not in await live_ids(leases, account, NOW)


async def test_another_accounts_leases_do_not_count(leases: RedisStreamLeases) -> None:
    busy, other = an_account(), an_account()
    await play(leases, busy, a_session(), limit=1)
    stream, admitted, _ = await play(leases, other, a_session(), limit=1)
    assert admitted
    assert await live_ids(leases, other, NOW) == [stream]


async def test_a_sessions_second_stream_replaces_its_first_even_at_the_limit(
    leases: RedisStreamLeases,
) -> None:
    account, tv, phone = an_account(), a_session(), a_session()
    first, _, _ = await play(leases, account, tv, limit=2)
    phones, _, _ = await play(leases, account, phone, limit=2)
    second, admitted, replaced = await play(leases, account, tv, limit=2)
    assert admitted
    assert replaced == (first,)
    assert sorted(await live_ids(leases, account, NOW)) == sorted([phones, second])
    assert not await leases.renew(account, tv, first, expires_at=NOW + LEASE, now=NOW)


async def test_acquiring_the_same_stream_again_does_not_replace_it(
    leases: RedisStreamLeases,
) -> None:
    account, session, stream = an_account(), a_session(), a_stream()
    for _ in range(2):
        grant = await leases.acquire(
            record(account, session, stream, NOW, NOW + LEASE), limit=1, now=NOW
        )
        assert grant.admitted
        assert grant.replaced == ()
    assert await live_ids(leases, account, NOW) == [stream]


async def test_renewing_extends_a_live_lease(leases: RedisStreamLeases) -> None:
    account, session = an_account(), a_session()
    stream, _, _ = await play(leases, account, session, limit=1)
    heartbeat = NOW + timedelta(seconds=30)
    assert await leases.renew(account, session, stream, expires_at=heartbeat + LEASE, now=heartbeat)
    after_the_first_lease = NOW + LEASE + timedelta(seconds=1)
    assert await live_ids(leases, account, after_the_first_lease) == [stream]
    assert await live_ids(leases, account, heartbeat + LEASE) == []


async def test_renewing_is_refused_once_the_lease_expired(leases: RedisStreamLeases) -> None:
    account, session = an_account(), a_session()
    stream, _, _ = await play(leases, account, session, limit=1)
    too_late = NOW + LEASE
    assert not await leases.renew(
        account, session, stream, expires_at=too_late + LEASE, now=too_late
    )
    assert await live_ids(leases, account, NOW) == [stream]  # the score was left as it was


async def test_renewing_is_refused_for_another_session(leases: RedisStreamLeases) -> None:
    account, owner, intruder = an_account(), a_session(), a_session()
    stream, _, _ = await play(leases, account, owner, limit=1)
    later = NOW + timedelta(seconds=30)
    assert not await leases.renew(account, intruder, stream, expires_at=later + LEASE, now=later)
    assert await live_ids(leases, account, NOW + LEASE) == []


async def test_renewing_is_refused_after_release_or_for_an_unknown_stream(
    leases: RedisStreamLeases,
) -> None:
    account, session = an_account(), a_session()
    stream, _, _ = await play(leases, account, session, limit=1)
    await leases.release(account, [stream])
    for gone in (stream, a_stream()):
        assert not await leases.renew(account, session, gone, expires_at=NOW + LEASE, now=NOW)
    assert await live_ids(leases, account, NOW) == []


async def test_expired_leases_do_not_count(leases: RedisStreamLeases) -> None:
    account, vanished, arriving = an_account(), a_session(), a_session()
    await play(leases, account, vanished, limit=1)
    expiry = NOW + LEASE
    assert await live_ids(leases, account, expiry) == []
    stream, admitted, replaced = await play(leases, account, arriving, limit=1, at=expiry)
    assert admitted
    assert replaced == ()
    assert await live_ids(leases, account, expiry) == [stream]


async def test_releasing_frees_the_slot_at_once(leases: RedisStreamLeases) -> None:
    account = an_account()
    holder, _, _ = await play(leases, account, a_session(), limit=1)
    _, admitted_before, _ = await play(leases, account, a_session(), limit=1)
    await leases.release(account, [holder, a_stream()])
    await leases.release(account, [])
    stream, admitted_after, _ = await play(leases, account, a_session(), limit=1)
    assert (admitted_before, admitted_after) == (False, True)
    assert await live_ids(leases, account, NOW) == [stream]


async def test_an_accounts_keys_outlive_its_leases_only_briefly_and_go_with_the_last(
    leases: RedisStreamLeases, redis: Redis, key_prefix: str
) -> None:
    account, session = an_account(), a_session()
    stream, _, _ = await play(leases, account, session, limit=1)
    keys = [key async for key in redis.scan_iter(match=f"{key_prefix}:*")]
    assert len(keys) == 2
    for key in keys:
        # Twice the lease, from the caller's clock rather than Redis's.
        assert 0 < await redis.pttl(key) <= 2 * LEASE // timedelta(milliseconds=1)
    long_lease = NOW + timedelta(minutes=10)
    assert await leases.renew(account, session, stream, expires_at=long_lease, now=NOW)
    for key in keys:
        assert await redis.pttl(key) > 2 * LEASE // timedelta(milliseconds=1)
    await leases.release(account, [stream])
    assert [key async for key in redis.scan_iter(match=f"{key_prefix}:*")] == []


async def test_a_refusal_carries_the_holders_records(leases: RedisStreamLeases) -> None:
    account, tv, phone = an_account(), a_session(), a_session()
    held = record(account, tv, a_stream(), NOW, NOW + LEASE)
    assert (await leases.acquire(held, limit=1, now=NOW)).admitted
    refused = await leases.acquire(
        record(account, phone, a_stream(), NOW, NOW + LEASE), limit=1, now=NOW
    )
    assert refused.holders == (held,)
    assert await leases.live(account, NOW) == [held]


async def test_naive_datetimes_are_refused(leases: RedisStreamLeases) -> None:
    naive = NOW.replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive"):
        await live_ids(leases, an_account(), naive)


async def test_of_200_concurrent_plays_exactly_the_limit_are_admitted(
    leases: RedisStreamLeases,
) -> None:
    account, limit = an_account(), 4
    answers = await asyncio.gather(
        *(play(leases, account, a_session(), limit=limit) for _ in range(200))
    )
    admitted = sorted(stream for stream, ok, _ in answers if ok)
    refusals = [holders for _, ok, holders in answers if not ok]
    assert len(admitted) == limit
    assert len(refusals) == 200 - limit
    assert all(sorted(holders) == admitted for holders in refusals)
    assert sorted(await live_ids(leases, account, NOW)) == admitted
