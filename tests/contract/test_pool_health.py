"""PostgreSQL's pool pings a connection only when it sat idle (engine.py): under load no
checkout costs a round trip, and a connection that died while idle is replaced, not handed out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from screengate.adapters.sql import engine as engines
from tests.contract.conftest import postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


async def test_a_busy_connection_is_handed_out_without_a_ping(postgres_url: str) -> None:
    engine = engines.create_engine_for(postgres_url)
    pings = 0
    original = engine.sync_engine.dialect.do_ping

    def counting_ping(dbapi_connection: Any) -> bool:
        nonlocal pings
        pings += 1
        return bool(original(dbapi_connection))

    engine.sync_engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    try:
        for _ in range(5):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        assert pings == 0
    finally:
        await engine.dispose()


async def test_a_connection_that_died_while_idle_is_replaced_on_checkout(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engines.create_engine_for(postgres_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # The server ends that connection while it sits in the pool.
        other = engines.create_engine_for(postgres_url)
        try:
            async with other.connect() as admin:
                await admin.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))
        finally:
            await other.dispose()
        monkeypatch.setattr(engines, "IDLE_PING_SECONDS", 0.0)  # it counts as idle now
        async with engine.connect() as connection:
            again = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await engine.dispose()
