"""Hashing is the one costly thing a stranger can ask for: it runs only for input that could
succeed, and only so much of it at once."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from screengate.adapters.security import HashingGate
from screengate.domain.devices import DeviceType
from screengate.domain.errors import (
    ProfileLimit,
    ProfileNotFound,
    ServerBusy,
    TitleNotFound,
    WeakPassword,
)
from screengate.domain.ids import ProfileId
from screengate.domain.profiles import MAX_PROFILES
from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services import accounts, auth, profiles, streams
from screengate.services.profiles import ProfileChanges
from tests.unit.conftest import PlainHasher

EMAIL = "ana@example.com"
PASSWORD = "correct horse battery"


async def _signed_in(ports: Ports) -> Principal:
    await accounts.sign_up(ports, email=EMAIL, password=PASSWORD, plan="premium")
    pair = await auth.sign_in(ports, email=EMAIL, password=PASSWORD, device_type=DeviceType.PHONE)
    return await auth.authenticate(ports, pair.access_token)


def _work(ports: Ports) -> int:
    assert isinstance(ports.hasher, PlainHasher)
    return ports.hasher.work


async def test_a_pin_for_a_profile_that_does_not_exist_is_not_found_before_any_hashing(
    ports: Ports,
) -> None:
    me = await _signed_in(ports)
    before = _work(ports)
    ghost = ProfileId(str(uuid.uuid4()))
    for changes in (
        ProfileChanges(pin="1234", password=PASSWORD),
        ProfileChanges(remove_pin=True, password=PASSWORD),
    ):
        with pytest.raises(ProfileNotFound):
            await profiles.update_profile(ports, me, ghost, changes)
    with pytest.raises(ProfileNotFound):
        await streams.start_stream(
            ports, me, profile_id=ghost, title_id="night-harbour", pin="1234"
        )
    assert _work(ports) == before


async def test_a_locked_profile_that_could_not_be_added_costs_no_hashing(ports: Ports) -> None:
    me = await _signed_in(ports)
    for n in range(MAX_PROFILES - 1):
        await profiles.create_profile(ports, me, name=f"Profile {n}")
    before = _work(ports)
    with pytest.raises(ProfileLimit):
        await profiles.create_profile(ports, me, name="One too many", pin="1234")
    assert _work(ports) == before


async def test_a_title_that_is_not_there_costs_no_pin_check(ports: Ports) -> None:
    me = await _signed_in(ports)
    ben = await profiles.create_profile(ports, me, name="Ben", pin="1234")
    before = _work(ports)
    with pytest.raises(TitleNotFound):
        await streams.start_stream(
            ports, me, profile_id=ben.id, title_id="no-such-title", pin="1234"
        )
    assert _work(ports) == before


async def test_a_weak_new_password_is_refused_before_the_current_one_is_checked(
    ports: Ports,
) -> None:
    me = await _signed_in(ports)
    before = _work(ports)
    with pytest.raises(WeakPassword):
        await accounts.change_password(
            ports, me, current_password=PASSWORD, new_password="password"
        )
    assert _work(ports) == before


async def test_the_hashing_gate_runs_so_many_at_once_queues_a_few_and_refuses_the_rest() -> None:
    gate = HashingGate(slots=1, queue=1)
    release = threading.Event()
    started = threading.Semaphore(0)

    def hash_slowly(n: int) -> int:
        started.release()
        assert release.wait(5)
        return n

    running = asyncio.create_task(gate.run(hash_slowly, 1))
    waiting = asyncio.create_task(gate.run(hash_slowly, 2))
    await asyncio.to_thread(started.acquire)  # one is hashing, the other waits for its place
    await asyncio.sleep(0)
    assert gate.inside == 2

    with pytest.raises(ServerBusy) as busy:
        await gate.run(hash_slowly, 3)
    assert busy.value.retry_after_seconds >= 1

    release.set()
    assert [await running, await waiting] == [1, 2]
    assert gate.inside == 0
    assert await gate.run(lambda: 4) == 4  # room again
