"""The server's housekeeping: chores run now and then, a failing one is tried again at its next
turn without stopping the others, a chore switched off never runs, and all stop with the server.
Time is a fake sleep that counts the waits, not a real one."""

from __future__ import annotations

import asyncio
from typing import cast

from screengate.config import Settings
from screengate.housekeeping import Chore, chores, running
from screengate.ports import Ports
from screengate.services.sessions import prune_ended_sessions

PORTS = cast("Ports", object())


class Waits:
    """A sleep that returns at once (after letting the other tasks run) and notes each wait."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0)


async def until(condition: object, turns: int = 1000) -> None:
    for _ in range(turns):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


async def test_a_chore_runs_again_after_each_interval() -> None:
    runs: list[Ports] = []

    async def count(ports: Ports) -> None:
        runs.append(ports)

    waits = Waits()
    async with running(PORTS, [Chore("count", 60, count)], first_within=5, sleep=waits):
        await until(lambda: len(runs) >= 3)

    assert runs[:3] == [PORTS] * 3
    first, *then = waits.seconds
    assert 0 <= first <= 5
    assert set(then) == {60}


async def test_a_failing_chore_is_tried_again_and_the_others_go_on() -> None:
    failures = 0
    runs = 0

    async def fails(_: Ports) -> None:
        nonlocal failures
        failures += 1
        raise RuntimeError("the store is away")

    async def works(_: Ports) -> None:
        nonlocal runs
        runs += 1

    todo = [Chore("fails", 1, fails), Chore("works", 1, works)]
    async with running(PORTS, todo, sleep=Waits()):
        await until(lambda: failures >= 3 and runs >= 3)


async def test_a_chore_switched_off_never_runs_and_all_stop_with_the_block() -> None:
    ran: list[str] = []

    async def note(name: str) -> None:
        ran.append(name)

    async def off(_: Ports) -> None:
        await note("off")

    async def on(_: Ports) -> None:
        await note("on")

    async with running(PORTS, [Chore("off", 0, off), Chore("on", 1, on)], sleep=Waits()):
        await until(lambda: "on" in ran)
    stopped = len(ran)
    for _ in range(50):
        await asyncio.sleep(0)

    assert "off" not in ran
    assert len(ran) == stopped
    assert {t.get_name() for t in asyncio.all_tasks()}.isdisjoint({"chore:on", "chore:off"})


def test_the_server_prunes_ended_sessions_at_the_configured_interval() -> None:
    prune, *_ = chores(Settings(housekeeping_interval_seconds=120))

    assert (prune.name, prune.every_seconds, prune.run) == (
        "prune_ended_sessions",
        120,
        prune_ended_sessions,
    )


def test_the_server_ends_what_ran_out_every_few_seconds_and_forgets_old_codes_hourly() -> None:
    found = {c.name: c.every_seconds for c in chores(Settings(sweep_seconds=2))}
    assert found == {
        "prune_ended_sessions": 3600.0,
        "end_what_ran_out": 2,
        "forget_old_codes": 3600.0,
    }
