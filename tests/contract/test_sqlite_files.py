"""The SQLite database holds password and token hashes: its file, its -wal and -shm, and the
folder made for them are for their owner alone, whatever the umask."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from screengate.adapters.sql import create_engine_for, upgrade


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that lets everyone read new files, as many machines have."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def write_and_look(url: str, database: Path) -> dict[str, int]:
    """Migrate, write, and read the modes while the connection (and so -wal, -shm) is open."""
    await upgrade(url)
    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            await connection.execute(text("INSERT INTO probe VALUES (1)"))
        async with engine.connect() as connection:
            await connection.execute(text("SELECT count(*) FROM probe"))
            return {
                path.name: mode(path)
                for path in database.parent.iterdir()
                if path.name.startswith(database.name)
            }
    finally:
        await engine.dispose()


def test_a_new_database_and_its_folder_are_readable_by_their_owner_alone(
    tmp_path: Path, open_umask: None
) -> None:
    database = tmp_path / "var" / "screengate.db"

    modes = asyncio.run(write_and_look(f"sqlite+aiosqlite:///{database}", database))

    assert mode(database.parent) == 0o700
    assert set(modes) >= {"screengate.db", "screengate.db-wal", "screengate.db-shm"}
    assert set(modes.values()) == {0o600}, {name: oct(m) for name, m in modes.items()}


def test_a_database_left_readable_by_others_is_made_private(
    tmp_path: Path, open_umask: None
) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    database = folder / "screengate.db"
    database.touch(mode=0o644)

    modes = asyncio.run(write_and_look(f"sqlite+aiosqlite:///{database}", database))

    assert set(modes.values()) == {0o600}, {name: oct(m) for name, m in modes.items()}
    assert mode(folder) == 0o755  # a folder the operator made keeps its own mode
