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
from screengate.ports import Guesser

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


def _address() -> str:
    return f"198.51.{uuid.uuid4().int % 250 + 1}.{uuid.uuid4().int % 250 + 1}"


def _sign_in_throttle(
    storage: Storage,
    *,
    per_client: str = "100/minute",
    per_account_client: str = "100/minute",
    per_account: str = "100/minute",
    per_device: str = "100/minute",
) -> LimitsSignInThrottle:
    return LimitsSignInThrottle(
        storage,
        per_client=per_client,
        per_account_client=per_account_client,
        per_account=per_account,
        per_device=per_device,
    )


async def test_every_attempt_counts_against_its_address_and_past_the_limit_is_refused(
    storage: Storage,
) -> None:
    throttle = _sign_in_throttle(storage, per_client="3/minute")
    address = _address()
    for _ in range(3):
        async with throttle.attempt(address):
            pass
    with pytest.raises(TooManyAttempts) as refused:
        async with throttle.attempt(address):
            pass
    assert 1 <= refused.value.retry_after_seconds <= 60
    async with throttle.attempt(_address()), throttle.attempt(None):
        pass  # another address, and no address (nothing to count it against)


async def test_only_a_few_attempts_from_one_address_are_judged_at_once(
    storage: Storage,
) -> None:
    throttle = LimitsSignInThrottle(
        storage,
        per_client="100/minute",
        per_account_client="100/minute",
        per_account="100/minute",
        per_device="100/minute",
        at_once_per_client=2,
    )
    address = _address()
    async with throttle.attempt(address), throttle.attempt(address):
        with pytest.raises(TooManyAttempts) as refused:
            async with throttle.attempt(address):
                pass
        assert refused.value.retry_after_seconds == 1
        async with throttle.attempt(_address()):
            pass  # other addresses have places of their own
    async with throttle.attempt(address), throttle.attempt(address):
        pass  # the places are back once the attempts are judged


async def test_failures_from_one_address_pause_that_address_on_that_email_only(
    storage: Storage,
) -> None:
    throttle = _sign_in_throttle(storage, per_account_client="3/minute")
    email, address = _email(), _address()
    for _ in range(3):
        await throttle.check(Guesser(email, address))
        await throttle.failed(Guesser(email, address))
    with pytest.raises(TooManyAttempts) as refused:
        await throttle.check(Guesser(email, address))
    assert 1 <= refused.value.retry_after_seconds <= 60
    await throttle.check(Guesser(email, _address()))
    await throttle.check(Guesser(_email(), address))


async def test_failures_from_everywhere_pause_strangers_but_not_the_accounts_own_device(
    storage: Storage,
) -> None:
    throttle = _sign_in_throttle(storage, per_account="3/minute")
    email = _email()
    for _ in range(3):
        await throttle.failed(Guesser(email, _address()))
    with pytest.raises(TooManyAttempts):
        await throttle.check(Guesser(email, _address()))
    await throttle.check(Guesser(email, _address(), DeviceId(_id())))


async def test_a_known_devices_failures_count_against_that_device_alone(storage: Storage) -> None:
    throttle = _sign_in_throttle(storage, per_device="2/minute")
    email, address, tv = _email(), _address(), DeviceId(_id())
    for _ in range(2):
        await throttle.failed(Guesser(email, address, tv))
    with pytest.raises(TooManyAttempts):
        await throttle.check(Guesser(email, address, tv))
    await throttle.check(Guesser(email, address))
    await throttle.check(Guesser(email, address, DeviceId(_id())))


async def test_a_success_clears_the_guessers_own_count_only(storage: Storage) -> None:
    throttle = _sign_in_throttle(storage, per_account_client="2/minute", per_account="4/minute")
    email, address = _email(), _address()
    await throttle.failed(Guesser(email, address))
    await throttle.failed(Guesser(email, address))
    await throttle.succeeded(Guesser(email, address))
    await throttle.failed(Guesser(email, address))
    await throttle.check(Guesser(email, address))
    # The count from everywhere is left to time: a fourth failure fills it.
    await throttle.failed(Guesser(email, _address()))
    with pytest.raises(TooManyAttempts):
        await throttle.check(Guesser(email, _address()))


async def test_the_strictest_of_several_windows_decides(storage: Storage) -> None:
    throttle = _sign_in_throttle(storage, per_account_client="10/minute;2/hour")
    email, address = _email(), _address()
    await throttle.failed(Guesser(email, address))
    await throttle.failed(Guesser(email, address))
    with pytest.raises(TooManyAttempts) as refused:
        await throttle.check(Guesser(email, address))
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
    await storages[0].reset()
