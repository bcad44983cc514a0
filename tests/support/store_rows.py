"""Every row of every table of a SQL store, read straight from the database: what a test compares
to show that nothing was written."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from sqlalchemy import Engine, Select, Table, create_engine, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from screengate.adapters.sql.tables import metadata

Rows = dict[str, list[tuple[Any, ...]]]

# The mail sender's own bookkeeping, which moves on its own after a change committed: not a
# write any request made.
SENDER_COLUMNS = {"state", "attempts", "next_attempt_at", "claimed_until", "sent_at", "last_error"}


def store_rows(database_url: str) -> Rows:
    return asyncio.run(_rows(database_url))


def differences(before: Rows, after: Rows) -> list[str]:
    """What changed, table by table, readable in a failing assertion."""
    found = []
    for table in sorted(set(before) | set(after)):
        # repr: rows may hold JSON (dicts), which sets cannot.
        old = {repr(row) for row in before.get(table, [])}
        new = {repr(row) for row in after.get(table, [])}
        found += [f"{table} lost {row}" for row in sorted(old - new)]
        found += [f"{table} gained {row}" for row in sorted(new - old)]
    return found


async def _rows(database_url: str) -> Rows:
    engine = create_async_engine(database_url)
    try:
        return await _read(engine)
    finally:
        await engine.dispose()


# What the security log writes on a refusal, on purpose: the audit trail of failed attempts.
LOGGED_FAILURES = (
    "sign_in_failed",
    "pin_failed",
    "pin_attempts_exceeded",
    "password_change",
    "second_factor_failed",
    "reauth_failed",
    "password_check_failed",  # a wrong account password for a password or PIN change
)


def written_by_a_refusal(before: Rows, after: Rows) -> list[str]:
    """What changed in the store, but for the failed attempts the security log records."""
    return [
        change
        for change in differences(before, after)
        if not (
            change.startswith("security_events gained")
            and any(kind in change for kind in LOGGED_FAILURES)
        )
    ]


class StoreReader:
    """store_rows() over one connection kept open, for tests that take a snapshot after every
    request: SQLite is read with the standard library's driver (no thread hop per row batch),
    PostgreSQL with asyncpg on an event loop of its own."""

    def __init__(self, database_url: str) -> None:
        self._sqlite: Engine | None = None
        if database_url.startswith("sqlite"):
            self._sqlite = create_engine(
                database_url.replace("+aiosqlite", "", 1), poolclass=StaticPool
            )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._engine = create_async_engine(database_url, poolclass=StaticPool)

    def rows(self) -> Rows:
        if self._sqlite is not None:
            with self._sqlite.connect() as connection:
                return {
                    table.name: [tuple(row) for row in connection.execute(_query(table))]
                    for table in metadata.sorted_tables
                }
        return asyncio.run_coroutine_threadsafe(_read(self._engine), self._loop).result(30)

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.dispose()
        asyncio.run_coroutine_threadsafe(self._engine.dispose(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


async def _read(engine: AsyncEngine) -> Rows:
    async with engine.connect() as connection:
        rows: Rows = {}
        for table in metadata.sorted_tables:
            rows[table.name] = [tuple(row) for row in await connection.execute(_query(table))]
        return rows


def _query(table: Table) -> Select[Any]:
    """Every column, but the outbox's sender bookkeeping."""
    columns = [c for c in table.columns if table.name != "outbox" or c.name not in SENDER_COLUMNS]
    return select(*columns).order_by(*table.primary_key.columns)
