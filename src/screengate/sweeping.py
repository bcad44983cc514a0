"""The server's own timer: every few seconds, end what ran out (services/sweep.py). No cron.

Started by the app's lifespan; every instance runs one (each end is judged under the
account's lock, so nothing ends twice). A sweep that fails is logged and tried again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from screengate.ports import Ports
from screengate.services.sweep import forget_old_codes, sweep

log = structlog.get_logger("screengate.sweep")


FORGET_EVERY = 3600.0  # seconds between prunings of old codes


async def sweep_forever(ports: Ports, every: float) -> None:
    loop = asyncio.get_running_loop()
    forgot = loop.time()
    while True:
        try:
            await sweep(ports, ports.clock.now())
            if loop.time() - forgot >= FORGET_EVERY:
                forgot = loop.time()
                await forget_old_codes(ports, ports.clock.now())
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a store down for a moment: the next sweep tries again
            log.warning("sweep_failed", error_type=type(error).__name__, exc_info=error)
        await asyncio.sleep(every)


@asynccontextmanager
async def sweeping(ports: Ports, every: float) -> AsyncIterator[None]:
    task = asyncio.create_task(sweep_forever(ports, every), name="screengate-sweep")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
