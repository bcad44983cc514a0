"""The migrations build exactly the schema tables.py describes, on every supported database."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from screengate.adapters.sql import create_engine_for, upgrade
from screengate.adapters.sql.migrate import alembic_config
from screengate.adapters.sql.tables import metadata

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


async def inspect_database(url: str) -> tuple[str | None, set[str], list[Any]]:
    """The revision the database is at, its tables, and how it differs from tables.py."""
    engine = create_engine_for(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_inspect)
    finally:
        await engine.dispose()


def _inspect(connection: Connection) -> tuple[str | None, set[str], list[Any]]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    tables = set(inspect(connection).get_table_names())
    return context.get_current_revision(), tables, compare_metadata(context, metadata)


async def downgrade_to_base(url: str) -> None:
    await downgrade(url, "base")


async def downgrade(url: str, revision: str) -> None:
    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade, revision)
    finally:
        await engine.dispose()


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_migrations_bring_an_empty_database_to_head(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    revision, tables, _ = await inspect_database(empty_database_url)
    assert revision == HEAD
    assert tables == {*metadata.tables, "alembic_version"}


async def test_the_migrated_schema_matches_tables_py(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    _, _, differences = await inspect_database(empty_database_url)
    assert differences == []


async def test_upgrading_an_up_to_date_database_changes_nothing(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    await upgrade(empty_database_url)
    revision, _, differences = await inspect_database(empty_database_url)
    assert revision == HEAD
    assert differences == []


async def test_downgrading_to_base_removes_everything_and_upgrade_rebuilds_it(
    empty_database_url: str,
) -> None:
    await upgrade(empty_database_url)
    await downgrade_to_base(empty_database_url)
    revision, tables, _ = await inspect_database(empty_database_url)
    assert revision is None
    assert tables == {"alembic_version"}
    await upgrade(empty_database_url)
    revision, _, differences = await inspect_database(empty_database_url)
    assert revision == HEAD
    assert differences == []


async def test_a_database_at_0001_gains_streams_and_downloads_and_can_go_back(
    empty_database_url: str,
) -> None:
    await upgrade(empty_database_url, "0001")
    _, before, _ = await inspect_database(empty_database_url)
    await upgrade(empty_database_url, "0002")
    revision, after, _ = await inspect_database(empty_database_url)
    assert (revision, after - before) == ("0002", {"streams", "downloads"})
    await downgrade(empty_database_url, "0001")
    revision, back, _ = await inspect_database(empty_database_url)
    assert (revision, back) == ("0001", before)


def test_the_alembic_commands_can_migrate_by_url_alone(empty_database_url: str) -> None:
    # What `alembic upgrade head` does with only sqlalchemy.url: env.py makes its own engine.
    command.upgrade(alembic_config(empty_database_url), "head")
    command.check(alembic_config(empty_database_url))  # raises if autogenerate finds a change
