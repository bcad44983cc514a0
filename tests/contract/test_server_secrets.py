"""The secret the pages sign with: one per database, whichever process starts first makes it."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

from screengate.adapters.sql import create_engine_for, upgrade
from screengate.adapters.sql.secrets import shared_secret
from screengate.config import Settings
from screengate.wiring import web_secret
from tests.support.clock import FrozenClock

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def test_processes_starting_at_once_agree_on_one_secret(sql_store_url: str) -> None:
    await upgrade(sql_store_url)
    name = f"test-{secrets.token_hex(4)}"
    engines = [create_engine_for(sql_store_url) for _ in range(4)]
    try:
        candidates = [secrets.token_hex(32) for _ in engines]
        kept = await asyncio.gather(
            *(
                shared_secret(engine, name, candidate, NOW)
                for engine, candidate in zip(engines, candidates, strict=True)
            )
        )
        assert len(set(kept)) == 1
        assert kept[0] in candidates
        assert await shared_secret(engines[0], name, "a later candidate", NOW) == kept[0]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_every_worker_on_a_database_signs_with_the_same_secret(sql_store_url: str) -> None:
    await upgrade(sql_store_url)
    settings = Settings(database_url=sql_store_url)
    first, second = [await web_secret(settings, FrozenClock()) for _ in range(2)]
    assert first == second
    assert len(first) == 64  # 32 random bytes, in hex


async def test_the_operators_secret_wins_over_the_kept_one(sql_store_url: str) -> None:
    await upgrade(sql_store_url)
    kept = await web_secret(Settings(database_url=sql_store_url), FrozenClock())
    chosen = "an operator's secret of 32 chars or more"
    settings = Settings(database_url=sql_store_url, web_secret=chosen)
    assert await web_secret(settings, FrozenClock()) == chosen
    assert await web_secret(Settings(database_url=sql_store_url), FrozenClock()) == kept


async def test_a_memory_store_keeps_a_secret_of_its_own_process() -> None:
    settings = Settings(database_url="memory://")
    assert await web_secret(settings, FrozenClock()) != await web_secret(settings, FrozenClock())
