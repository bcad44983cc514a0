"""Secrets every instance on one database shares: the first to ask makes it, all read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from screengate.adapters.sql.tables import server_secrets


async def shared_secret(engine: AsyncEngine, name: str, candidate: str, now: datetime) -> str:
    """The secret kept under `name`; `candidate` becomes it if there is none yet.

    Insert-if-absent, then read: processes starting at once all end up with the one that won.
    """
    async with engine.begin() as connection:
        await connection.execute(_insert_if_absent(connection.dialect.name, name, candidate, now))
        kept = await connection.scalar(
            select(server_secrets.c.value).where(server_secrets.c.name == name)
        )
    return str(kept)


def _insert_if_absent(dialect: str, name: str, value: str, now: datetime) -> Insert:
    row = {"name": name, "value": value, "created_at": now}
    if dialect == "postgresql":
        return postgresql.insert(server_secrets).values(row).on_conflict_do_nothing()
    return sqlite.insert(server_secrets).values(row).on_conflict_do_nothing()
