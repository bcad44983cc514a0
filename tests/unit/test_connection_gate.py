"""The PostgreSQL connection queue (adapters/sql/uow.py ConnectionGate): first come, first
served, and a bounded wait that ends in the pool's own TimeoutError (503 server_busy)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout

from screengate.adapters.sql.uow import ConnectionGate


async def test_waiters_get_a_connection_in_the_order_they_came() -> None:
    gate = ConnectionGate(connections=1, timeout=5.0)
    await gate.enter()
    served: list[int] = []

    async def request(n: int) -> None:
        await gate.enter()
        served.append(n)
        await asyncio.sleep(0)
        gate.leave()

    waiting = [asyncio.create_task(request(n)) for n in range(10)]
    await asyncio.sleep(0.01)
    gate.leave()
    # A newcomer arriving as the first connection comes back goes to the back of the queue.
    late = asyncio.create_task(request(99))
    await asyncio.gather(*waiting, late)
    assert served == [*range(10), 99]


async def test_a_request_that_waits_past_the_timeout_gives_up_with_the_pools_error() -> None:
    gate = ConnectionGate(connections=1, timeout=0.05)
    await gate.enter()
    with pytest.raises(PoolTimeout):
        await gate.enter()
    gate.leave()
    await gate.enter()  # the slot was not lost to the one that gave up
