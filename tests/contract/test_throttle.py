"""The sign-in throttle behaves the same on in-process memory and on a shared Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from limits.aio.storage import MemoryStorage, RedisStorage, Storage

from screengate.adapters.throttle import LimitsSignInThrottle
from screengate.domain.errors import TooManyAttempts

REDIS_URL = os.environ.get("SCREENGATE_TEST_REDIS_URL")


@pytest.fixture(params=["memory", "redis"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    if request.param == "memory":
        yield MemoryStorage()
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
