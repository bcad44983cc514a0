"""What only the SQL adapter promises: its engines, its foreign keys, its refusal of naive time."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from screengate.adapters.sql import SqlUnitOfWork, create_engine_for, upgrade
from screengate.adapters.sql.engine import SQLITE_BUSY_TIMEOUT_MS, async_url
from screengate.domain.ids import DeviceId
from tests.contract.factories import make_account, make_device, make_session

SqlUowFactory = Callable[[], SqlUnitOfWork]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/screengate.db", "sqlite+aiosqlite:///var/screengate.db"),
        ("sqlite+aiosqlite:///var/screengate.db", "sqlite+aiosqlite:///var/screengate.db"),
        ("postgresql://app@db/screengate", "postgresql+asyncpg://app@db/screengate"),
        ("postgresql+asyncpg://app@db/screengate", "postgresql+asyncpg://app@db/screengate"),
    ],
)
def test_a_url_without_an_asyncio_driver_gets_one(given: str, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url", ["mysql://app@db/screengate", "sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"]
)
def test_an_unsupported_or_in_memory_database_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"SQLite|PostgreSQL"):
        create_engine_for(url)


async def test_a_sqlite_database_gets_its_directory_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data" / "screengate.db"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        await engine.dispose()
    assert path.exists()
    # synchronous: 1 is NORMAL.
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
        "synchronous": 1,
    }


async def test_a_sqlite_unit_of_work_holds_the_write_lock_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "screengate.db"
    await upgrade(f"sqlite:///{path}")
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        async with SqlUnitOfWork(engine):
            # Not one statement yet, and still no other writer may begin.
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        await engine.dispose()


async def test_a_session_for_an_unknown_device_is_refused(sql_uow_factory: SqlUowFactory) -> None:
    account = make_account()
    async with sql_uow_factory() as uow:
        await uow.accounts.add(account)
        await uow.commit()
    orphan = make_session(make_device(account, id=DeviceId("never-stored")))
    async with sql_uow_factory() as uow:
        with pytest.raises(IntegrityError):
            await uow.sessions.add(orphan)


async def test_a_naive_datetime_is_refused(sql_uow_factory: SqlUowFactory) -> None:
    naive = make_account(created_at=datetime(2026, 3, 1, 12, 0))
    async with sql_uow_factory() as uow:
        with pytest.raises(StatementError, match="naive"):
            await uow.accounts.add(naive)
