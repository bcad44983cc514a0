"""One store contract, every backend: memory, SQLite, and PostgreSQL when one is configured."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from screengate.adapters.memory import memory_unit_of_work_factory
from screengate.adapters.redis import redis_client
from screengate.adapters.sql import (
    SqlUnitOfWork,
    create_engine_for,
    sql_unit_of_work_factory,
    upgrade,
)
from screengate.adapters.sql.engine import async_url
from screengate.adapters.sql.tables import metadata
from screengate.ports import UnitOfWork

POSTGRES_URL_VARIABLE = "SCREENGATE_TEST_POSTGRES_URL"
NO_POSTGRES = f"set {POSTGRES_URL_VARIABLE} to run against PostgreSQL"

BACKENDS = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

REDIS_URL_VARIABLE = "SCREENGATE_TEST_REDIS_URL"
NO_REDIS = f"set {REDIS_URL_VARIABLE} to run against Redis"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    url = os.environ.get(REDIS_URL_VARIABLE)
    if not url:
        pytest.skip(NO_REDIS)
    client = redis_client(url)
    yield client
    await client.aclose()


@pytest.fixture
async def key_prefix(redis: Redis) -> AsyncIterator[str]:
    """A prefix of this test's own: its keys are removed after it."""
    prefix = f"screengate-test-{secrets.token_hex(16)}"
    yield prefix
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Where the stores keep their data: None for memory, else a database URL."""
    if request.param == "memory":
        return None
    return _database_url(request, tmp_path)


@pytest.fixture
async def uow_factory(store_url: str | None) -> AsyncIterator[Callable[[], UnitOfWork]]:
    if store_url is None:
        yield memory_unit_of_work_factory()
        return
    async with _sql_uow_factory(store_url) as factory:
        yield factory


@pytest.fixture(params=DATABASES)
def sql_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _database_url(request, tmp_path)


@pytest.fixture
async def sql_uow_factory(sql_store_url: str) -> AsyncIterator[Callable[[], SqlUnitOfWork]]:
    """For what only the SQL stores promise (foreign keys, refusing naive datetimes)."""
    async with _sql_uow_factory(sql_store_url) as factory:
        yield factory


def _database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("shared_postgres_url")
    return url


@asynccontextmanager
async def _sql_uow_factory(url: str) -> AsyncIterator[Callable[[], SqlUnitOfWork]]:
    await upgrade(url)
    engine = create_engine_for(url)
    try:
        if engine.dialect.name == "postgresql":
            await _empty_every_table(engine)
        yield sql_unit_of_work_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even a schema."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def shared_postgres_url() -> Iterator[str]:
    """One database for the whole run (creating one per test would cost far more)."""
    with postgres_database() as url:
        yield url


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'screengate.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, randomly named database on the configured server, dropped afterwards."""
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(NO_POSTGRES)
    name = f"screengate_test_{secrets.token_hex(6)}"
    _in_own_loop(_administer(server, f'CREATE DATABASE "{name}"'))
    try:
        yield async_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        _in_own_loop(_administer(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _administer(server: str, statement: str) -> None:
    # CREATE and DROP DATABASE refuse to run inside a transaction.
    engine = create_async_engine(
        async_url(server), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def _empty_every_table(engine: AsyncEngine) -> None:
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def _in_own_loop(work: Coroutine[Any, Any, None]) -> None:
    """Run from sync fixtures without touching the event loop pytest-asyncio manages."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, work).result()
