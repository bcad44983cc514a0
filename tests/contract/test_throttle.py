"""The sign-in and PIN throttles behave the same on in-process memory and on a shared Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from limits.aio.storage import RedisStorage, Storage

from screengate.adapters.throttle import LimitsPinThrottle, LimitsSignInThrottle, MemoryCounters
from screengate.domain.errors import TooManyAttempts, TooManyPinAttempts
from screengate.domain.ids import DeviceId, ProfileId

REDIS_URL = os.environ.get("SCREENGATE_TEST_REDIS_URL")


@pytest.fixture(params=["memory", "redis"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    if request.param == "memory":
        yield MemoryCounters()  # what production uses without Redis
        return
    if not REDIS_URL:
        pytest.skip("set SCREENGATE_TEST_REDIS_URL to run against Redis")
    redis = RedisStorage(
        REDIS_URL.replace("redis://", "async+redis://", 1),
        implementation="redispy",
        key_prefix=f"screengate-test-{uuid.uuid4().hex}",
    )
    yield redis
    await redis.reset()


def _email() -> str:
    return f"{uuid.uuid4().hex}@example.com"


async def test_failures_past_the_account_limit_are_refused_with_a_wait(storage: Storage) -> None:
    throttle = LimitsSignInThrottle(storage, per_account="3/minute", per_client="100/minute")
    email = _email()
    for _ in range(3):
        await throttle.check(email, "198.51.100.1")
        await throttle.failed(email, "198.51.100.1")
    with pytest.raises(TooManyAttempts) as refused:
        await throttle.check(email, "198.51.100.2")
    assert 1 <= refused.value.retry_after_seconds <= 60


async def test_one_client_guessing_many_emails_is_refused(storage: Storage) -> None:
    throttle = LimitsSignInThrottle(storage, per_account="100/minute", per_client="4/minute")
    client = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    for _ in range(4):
        await throttle.failed(_email(), client)
    with pytest.raises(TooManyAttempts):
        await throttle.check(_email(), client)
    await throttle.check(_email(), "203.0.113.9")


async def test_a_success_clears_the_accounts_failures(storage: Storage) -> None:
    throttle = LimitsSignInThrottle(storage, per_account="2/minute", per_client="100/minute")
    email = _email()
    await throttle.failed(email, None)
    await throttle.succeeded(email)
    await throttle.failed(email, None)
    await throttle.check(email, None)


async def test_the_strictest_of_several_windows_decides(storage: Storage) -> None:
    throttle = LimitsSignInThrottle(
        storage, per_account="10/minute;2/hour", per_client="100/minute"
    )
    email = _email()
    await throttle.failed(email, None)
    await throttle.failed(email, None)
    with pytest.raises(TooManyAttempts) as refused:
        await throttle.check(email, None)
    assert refused.value.retry_after_seconds > 60


def _pin_throttle(storage: Storage, per_profile: str = "3/minute;5/hour") -> LimitsPinThrottle:
    return LimitsPinThrottle(storage, per_profile=per_profile, per_device="5/minute")


def _id() -> str:
    return uuid.uuid4().hex


async def test_wrong_pins_past_the_profile_limit_pause_it_on_every_device(
    storage: Storage,
) -> None:
    throttle = _pin_throttle(storage)
    profile, tablet, tv = ProfileId(_id()), DeviceId(_id()), DeviceId(_id())
    failures = [await throttle.failed(profile, tablet) for _ in range(3)]
    assert [f.counted for f in failures] == [True, True, True]
    assert [f.retry_after > 0 for f in failures] == [False, False, True]
    assert 1 <= failures[-1].retry_after <= 60

    with pytest.raises(TooManyPinAttempts) as refused:
        await throttle.check(profile, tv)
    assert 1 <= refused.value.retry_after_seconds <= 60
    late = await throttle.failed(profile, tv)  # judged elsewhere meanwhile: not counted
    assert not late.counted
    assert late.retry_after > 0
    await throttle.check(ProfileId(_id()), tv)


async def test_a_devices_wrong_pins_count_across_profiles(storage: Storage) -> None:
    throttle = _pin_throttle(storage, per_profile="100/minute")
    tablet = DeviceId(_id())
    for _ in range(5):
        await throttle.failed(ProfileId(_id()), tablet)
    with pytest.raises(TooManyPinAttempts):
        await throttle.check(ProfileId(_id()), tablet)
    await throttle.check(ProfileId(_id()), DeviceId(_id()))


async def test_a_new_pin_forgets_the_profiles_count_but_not_the_devices(
    storage: Storage,
) -> None:
    throttle = _pin_throttle(storage)
    profile, tablet = ProfileId(_id()), DeviceId(_id())
    for _ in range(3):
        await throttle.failed(profile, tablet)
    await throttle.forget(profile)
    await throttle.check(profile, DeviceId(_id()))
    for _ in range(2):
        await throttle.failed(ProfileId(_id()), tablet)
    with pytest.raises(TooManyPinAttempts):  # 5 on this device, forgotten profile or not
        await throttle.check(profile, tablet)


async def test_the_longest_of_several_windows_is_the_wait(storage: Storage) -> None:
    throttle = _pin_throttle(storage, per_profile="10/minute;2/hour")
    profile = ProfileId(_id())
    await throttle.failed(profile, DeviceId(_id()))
    failure = await throttle.failed(profile, DeviceId(_id()))
    assert failure.retry_after > 60


async def test_one_profiles_pins_are_judged_one_at_a_time(storage: Storage) -> None:
    throttle = _pin_throttle(storage)
    profile, judging = ProfileId(_id()), []

    async def judge(n: int) -> None:
        async with throttle.turn(profile):
            judging.append(n)
            await asyncio.sleep(0.01)
            assert judging == [n]
            judging.remove(n)

    await asyncio.gather(*(judge(n) for n in range(5)))
    async with throttle.turn(profile), throttle.turn(ProfileId(_id())):
        pass  # another profile's turn does not wait for this one


@pytest.mark.redis
async def test_instances_on_one_redis_share_the_pin_counts() -> None:
    if not REDIS_URL:
        pytest.skip("set SCREENGATE_TEST_REDIS_URL to run against Redis")
    prefix = f"screengate-test-{uuid.uuid4().hex}"
    storages = [
        RedisStorage(
            REDIS_URL.replace("redis://", "async+redis://", 1),
            implementation="redispy",
            key_prefix=prefix,
        )
        for _ in range(2)
    ]
    a, b = (_pin_throttle(s, per_profile="3/minute") for s in storages)
    profile = ProfileId(_id())
    await a.failed(profile, DeviceId(_id()))
    await b.failed(profile, DeviceId(_id()))
    await a.check(profile, DeviceId(_id()))
    assert (await b.failed(profile, DeviceId(_id()))).retry_after > 0
    with pytest.raises(TooManyPinAttempts):
        await a.check(profile, DeviceId(_id()))
    await b.forget(profile)
    await a.check(profile, DeviceId(_id()))
    await storages[0].reset()
