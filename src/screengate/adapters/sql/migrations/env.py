"""Alembic's entry point, driven by migrate.py (a shared connection) or by the alembic CLI."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, text

from screengate.adapters.sql.engine import create_engine_for
from screengate.adapters.sql.tables import metadata

# Any constant will do: it only has to be the same in every instance that migrates.
_MIGRATION_LOCK = 0x5C2E_6A7E


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters a table by copying it; batch mode writes migrations that way.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Instances starting together take turns; the later ones find the schema at head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("screengate's migrations run against a database, not as SQL scripts")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give alembic a database: sqlalchemy.url or a shared connection")
    asyncio.run(run_with_own_engine(url))


main()
