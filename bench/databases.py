"""The stores a benchmark runs against, each fresh for the run so table sizes are the same."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from screengate.adapters.sql.engine import async_url

POSTGRES_URL_VARIABLES = ("SCREENGATE_BENCH_POSTGRES_URL", "SCREENGATE_TEST_POSTGRES_URL")


@dataclass(frozen=True)
class Backend:
    name: str  # as the table shows it
    url: str  # SCREENGATE_DATABASE_URL
    note: str = ""
    # More of the server's environment, e.g. SCREENGATE_REDIS_URL for the scale-out setup.
    env: Mapping[str, str] = field(default_factory=dict)


@contextmanager
def sqlite_backend(directory: Path) -> Iterator[Backend]:
    """The embedded default: a new SQLite file (WAL) in `directory`."""
    path = directory / "bench.db"
    yield Backend("SQLite", f"sqlite+aiosqlite:///{path}")


def postgres_url_from_env() -> str | None:
    for variable in POSTGRES_URL_VARIABLES:
        if os.environ.get(variable):
            return os.environ[variable]
    return None


@contextmanager
def postgres_backend(url: str) -> Iterator[Backend]:
    """A scratch database on the given server, dropped afterwards; the given one if we may not
    create databases there."""
    parsed = make_url(url)
    scratch = f"screengate_bench_{secrets.token_hex(4)}"
    try:
        asyncio.run(_admin(url, f'CREATE DATABASE "{scratch}"'))
    except Exception as error:  # no CREATEDB right, say: measure in the given database
        yield Backend("PostgreSQL", url, note=f"in {parsed.database!r} ({error})")
        return
    try:
        scratch_url = parsed.set(database=scratch).render_as_string(hide_password=False)
        yield Backend("PostgreSQL", scratch_url)
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))


async def _admin(url: str, statement: str) -> None:
    # CREATE and DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(
        async_url(url), isolation_level="AUTOCOMMIT", connect_args={"timeout": 10}
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def redis_url_from_env() -> str | None:
    for variable in ("SCREENGATE_BENCH_REDIS_URL", "SCREENGATE_TEST_REDIS_URL"):
        if os.environ.get(variable):
            return os.environ[variable]
    return None
