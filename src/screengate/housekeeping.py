"""Housekeeping: the chores the server does now and then on its own, while it runs.

A chore is a name, an interval and a use case over the ports. Registering one is one line in
`chores()` below:

    Chore("prune_ended_sessions", settings.housekeeping_interval_seconds, prune_ended_sessions),

The app's lifespan starts every chore when the server starts (a first run a moment after, then
one per interval) and stops them when it stops. A chore that fails is logged and tried again at
its next turn; it never stops the server or the other chores. Every instance and worker runs
its own chores, so each must be safe to run twice at once (a delete of what is already gone
deletes nothing). An interval of 0 turns a chore off (run it from the CLI instead).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from screengate.config import Settings
from screengate.ports import Ports
from screengate.services.sessions import prune_ended_sessions
from screengate.services.sweep import forget_old_codes, sweep

log = structlog.get_logger("screengate.housekeeping")

# The first run waits up to this long after the start, so starting the server stays quick
# and several instances started together do not all sweep at once.
FIRST_RUN_WITHIN_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Chore:
    name: str
    every_seconds: float
    run: Callable[[Ports], Awaitable[object]]


def chores(settings: Settings) -> list[Chore]:
    """Every chore the server runs on its own."""
    return [
        Chore("prune_ended_sessions", settings.housekeeping_interval_seconds, prune_ended_sessions),
        # Temporary sign-ins whose time is up, stream leases nobody renewed, TV codes that ran
        # out: ended within seconds (services/sweep.py).
        Chore("end_what_ran_out", settings.sweep_seconds, _end_what_ran_out),
        Chore("forget_old_codes", settings.housekeeping_interval_seconds, _forget_old_codes),
    ]


async def _end_what_ran_out(ports: Ports) -> None:
    await sweep(ports, ports.clock.now())


async def _forget_old_codes(ports: Ports) -> int:
    return await forget_old_codes(ports, ports.clock.now())


Sleep = Callable[[float], Awaitable[None]]


@asynccontextmanager
async def running(
    ports: Ports,
    todo: Sequence[Chore],
    *,
    first_within: float = FIRST_RUN_WITHIN_SECONDS,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[None]:
    """Run each chore (but those switched off) in the background until the block ends."""
    tasks = [
        asyncio.create_task(
            _keep_doing(ports, chore, first_within, sleep), name=f"chore:{chore.name}"
        )
        for chore in todo
        if chore.every_seconds > 0
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _keep_doing(ports: Ports, chore: Chore, first_within: float, sleep: Sleep) -> None:
    # Not a secret: only spreads the first runs of instances started together.
    await sleep(random.uniform(0, min(first_within, chore.every_seconds)))  # noqa: S311
    while True:
        try:
            outcome = await chore.run(ports)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.error(
                "chore_failed", chore=chore.name, error_type=type(error).__name__, exc_info=error
            )
        else:
            log.info("chore_done", chore=chore.name, outcome=repr(outcome))
        await sleep(chore.every_seconds)
