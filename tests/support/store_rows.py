"""Every row of every table of a SQL store, read straight from the database: what a test compares
to show that nothing was written."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

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
        async with engine.connect() as connection:
            rows: Rows = {}
            for table in metadata.sorted_tables:
                columns = [
                    c
                    for c in table.columns
                    if table.name != "outbox" or c.name not in SENDER_COLUMNS
                ]
                query = select(*columns).order_by(*table.primary_key.columns)
                rows[table.name] = [tuple(row) for row in await connection.execute(query)]
            return rows
    finally:
        await engine.dispose()
