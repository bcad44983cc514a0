"""Fresh, migrated databases for tests: a temporary SQLite file, or a new PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

BACKENDS = ("memory", "sqlite", "postgresql")
POSTGRES_ENV = "SCREENGATE_TEST_POSTGRES_URL"


def backend_params() -> list[object]:
    """memory, sqlite and postgresql, the last one marked so `-m "not postgres"` skips it."""
    return [
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]


@contextmanager
def migrated_database(backend: str, directory: Path) -> Iterator[str]:
    """A database URL for `backend`, migrated to head, and dropped afterwards."""
    if backend == "memory":
        yield "memory://"
    elif backend == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'screengate.db'}"
        _upgrade(url)
        yield url
    elif backend == "postgresql":
        with _postgres_database() as url:
            _upgrade(url)
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}")


def _upgrade(url: str) -> None:
    from screengate.adapters.sql.migrate import upgrade

    asyncio.run(upgrade(url))


@contextmanager
def _postgres_database() -> Iterator[str]:
    server_url = os.environ.get(POSTGRES_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} to run these on it")
    name = f"screengate_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    # A throwaway database need not wait for the disk at every commit.
    asyncio.run(_admin(server_url, f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()
