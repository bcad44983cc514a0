"""Engines for the two supported databases, each tuned for how screengate uses it."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 5000
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


POOL_SIZE = 10
POOL_TIMEOUT_SECONDS = 10.0


def create_engine_for(
    url: str, *, pool_size: int = POOL_SIZE, pool_timeout: float = POOL_TIMEOUT_SECONDS
) -> AsyncEngine:
    """An async engine for a SQLite file or a PostgreSQL server; the driver follows the URL.
    On PostgreSQL, waiting for a pooled connection longer than `pool_timeout` seconds raises
    sqlalchemy.exc.TimeoutError (the API answers 503 server_busy)."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return _postgresql_engine(parsed, pool_size, pool_timeout)


def async_url(url: str) -> URL:
    """`sqlite:///x.db` and `postgresql://...` become their asyncio drivers' URLs."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"screengate stores data in SQLite or PostgreSQL, not {backend!r}")
    if parsed.drivername == backend:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    return parsed


def plain_dsn(url: str) -> str:
    """`postgresql+asyncpg://...` as libpq and asyncpg's own connect() spell it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# A connection back from the pool is checked first only when it sat idle this long: under load
# connections come straight back and a health check on every checkout (pool_pre_ping) was one
# round trip in every unit of work, 2 of a heartbeat's and 2-9 of a Play's.
IDLE_PING_SECONDS = 10.0
_CHECKED_IN_AT = "screengate_checked_in_at"


def _postgresql_engine(url: URL, pool_size: int, pool_timeout: float) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=2 * pool_size,
        pool_timeout=pool_timeout,
        pool_recycle=30 * 60,  # seconds; outlives no proxy's idle timeout
        connect_args={"server_settings": {"application_name": "screengate"}},
    )
    pool = engine.sync_engine.pool
    event.listen(pool, "checkin", _checked_in)
    event.listen(pool, "checkout", partial(_ping_if_idle, engine.sync_engine.dialect))
    return engine


def _checked_in(dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pessimistic disconnect handling for idle connections only: a dead one is replaced (the
    pool tries another) instead of failing the request that drew it."""
    idle_since = record.info.get(_CHECKED_IN_AT)
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        alive = dialect.do_ping(dbapi_connection)
    except Exception as error:
        raise DisconnectionError("the pooled connection did not answer a ping") from error
    if alive is False:
        raise DisconnectionError("the pooled connection did not answer a ping")


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        # One shared connection cannot hold one transaction per unit of work.
        raise ValueError("SQLite needs a database file; use the memory adapter for no file")
    if not database.startswith("file:"):
        keep_private(Path(database))
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


# The file holds password hashes, token hashes and where every device signed in from: only its
# owner may read it. SQLite gives the -wal and -shm files the database file's own mode.
PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700


def keep_private(database: Path) -> None:
    """Create the database file (and its folder) for the owner alone, or make it so."""
    if not database.parent.exists():
        # Only a folder made here: an operator's existing one keeps the mode they gave it.
        database.parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(PRIVATE_FILE)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the driver (it would defer it, and skip it before SELECTs).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # With WAL, a power cut may lose the latest commits but cannot corrupt the file.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


READ_ONLY = "screengate_read_only"


def _begin_immediate(connection: Connection) -> None:
    # Every unit of work that may write is a writer from its first statement, so two never
    # read the same state and then both write (SQLite would fail the second with "database
    # is locked"). One that only reads begins deferred: under WAL it reads a snapshot and
    # neither waits for the writer nor holds it up.
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # one statement, its own transaction (the heartbeat)
    read_only = connection.info.get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
