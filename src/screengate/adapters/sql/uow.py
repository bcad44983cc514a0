"""The SQL unit of work: one connection and one transaction per use case."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import Update, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from screengate.adapters.sql.engine import READ_ONLY, create_engine_for
from screengate.adapters.sql.mail import SqlLinkStore, SqlOutbox
from screengate.adapters.sql.stores import (
    SqlAccountStore,
    SqlCredentialStore,
    SqlDeviceAuthorizationStore,
    SqlDeviceStore,
    SqlDownloadStore,
    SqlProfileStore,
    SqlSecurityLog,
    SqlSessionStore,
    SqlStreamStore,
    SqlTwoStepStore,
)
from screengate.adapters.sql.tables import accounts, sessions, streams
from screengate.domain.ids import AccountId, SessionId, StreamId
from screengate.ports import (
    AccountStore,
    CredentialStore,
    DeviceAuthorizationStore,
    DeviceStore,
    DownloadStore,
    LinkStore,
    Outbox,
    ProfileStore,
    SecurityLog,
    SessionStore,
    StreamStore,
    TwoStepStore,
)

__all__ = [
    "SqlStreamRenewals",
    "SqlUnitOfWork",
    "create_engine_for",
    "sql_stores",
    "sql_unit_of_work_factory",
]


# Past this, a writer gives up rather than wait on (most likely) a unit of work opened inside
# another one in the same task, which would otherwise never end.
WRITER_WAIT_SECONDS = 30.0


class SqlUnitOfWork:
    """ports.UnitOfWork over an AsyncEngine. Leaving without commit() rolls back."""

    accounts: AccountStore
    profiles: ProfileStore
    devices: DeviceStore
    sessions: SessionStore
    credentials: CredentialStore
    events: SecurityLog
    streams: StreamStore
    downloads: DownloadStore
    two_step: TwoStepStore
    outbox: Outbox
    links: LinkStore
    device_authorizations: DeviceAuthorizationStore

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        read_only: bool = False,
        writers: asyncio.Lock | None = None,
    ) -> None:
        self._engine = engine
        self._read_only = read_only
        self._writers = writers
        self._holds_writers = False
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        if self._writers is not None:
            # SQLite's own wait for its write lock sleeps and retries, so a newcomer can
            # overtake a writer that has waited for seconds; queueing this process's writers
            # first come, first served keeps the slowest waits close to the typical one.
            async with asyncio.timeout(WRITER_WAIT_SECONDS):
                await self._writers.acquire()
            self._holds_writers = True
        try:
            return await self._begin()
        except BaseException:
            self._release_writers()
            raise

    async def _begin(self) -> Self:
        connection = await self._engine.connect()
        # The pooled connection keeps its info between checkouts: set it every time.
        connection.info[READ_ONLY] = self._read_only
        try:
            # On SQLite this is BEGIN IMMEDIATE (see engine.py): the write lock, taken now.
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.accounts = SqlAccountStore(connection)
        self.profiles = SqlProfileStore(connection)
        self.devices = SqlDeviceStore(connection)
        self.sessions = SqlSessionStore(connection)
        self.credentials = SqlCredentialStore(connection)
        self.events = SqlSecurityLog(connection)
        self.streams = SqlStreamStore(connection)
        self.downloads = SqlDownloadStore(connection)
        self.two_step = SqlTwoStepStore(connection)
        self.outbox = SqlOutbox(connection)
        self.links = SqlLinkStore(connection)
        self.device_authorizations = SqlDeviceAuthorizationStore(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._active, None
        try:
            # close() rolls back whatever commit() did not make permanent, and then spares the
            # pool its own reset. An explicit rollback() first made the pool roll back a second
            # time: one more trip to aiosqlite's thread on every read (13 trips instead of 12).
            await connection.close()
        finally:
            self._release_writers()

    def _release_writers(self) -> None:
        if self._holds_writers and self._writers is not None:
            self._holds_writers = False
            self._writers.release()

    async def commit(self) -> None:
        await self._active.commit()

    async def lock_account(self, account_id: AccountId) -> None:
        """A row lock on PostgreSQL; on SQLite the whole unit of work already holds the lock."""
        if self._active.dialect.name == "sqlite":
            return
        query = select(accounts.c.id).where(accounts.c.id == account_id).with_for_update()
        await self._active.execute(query)

    @property
    def _active(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._connection


# Built once: a heartbeat only binds its values (building the statement each time was about a
# third of its Python-side cost).
_RENEW = (
    update(streams)
    .where(
        streams.c.id == bindparam("b_stream_id"),
        streams.c.session_id == bindparam("b_session_id"),
        streams.c.ended_at.is_(None),
        streams.c.expires_at > bindparam("b_now"),
        exists().where(
            sessions.c.id == bindparam("b_session_id"),
            sessions.c.account_id == bindparam("b_account_id"),
            sessions.c.signed_out_at.is_(None),
        ),
    )
    .values(expires_at=bindparam("b_expires_at"))
    .returning(streams.c.id)
)


class SqlStreamRenewals:
    """ports.StreamRenewals: the heartbeat as one autocommitted `UPDATE ... RETURNING`.

    The session's liveness is part of the statement's WHERE, so a heartbeat needs no unit of
    work (no BEGIN, no account lock, no session read, no COMMIT) and still writes nothing for a
    signed-out device: a sign-out marks the session and ends its streams in one transaction. On
    PostgreSQL, a heartbeat whose row that sign-out has already ended waits for it and then
    finds the stream ended (the row is re-checked after the lock); one that updates the row
    first commits at once, before the sign-out can end that stream and answer. On SQLite the
    statement and the sign-out are each a whole write transaction, one after the other.
    """

    def __init__(self, engine: AsyncEngine, writers: asyncio.Lock | None) -> None:
        self._engine = engine
        self._writers = writers

    async def renew_while_signed_in(
        self,
        account_id: AccountId,
        session_id: SessionId,
        stream_id: StreamId,
        *,
        expires_at: datetime,
        now: datetime,
    ) -> bool:
        values = {
            "b_stream_id": stream_id,
            "b_session_id": session_id,
            "b_account_id": account_id,
            "b_expires_at": expires_at,
            "b_now": now,
        }

        if self._writers is None:
            return await self._run(_RENEW, values)
        # SQLite: in this process's queue of writers, like a unit of work that writes.
        async with asyncio.timeout(WRITER_WAIT_SECONDS):
            await self._writers.acquire()
        try:
            return await self._run(_RENEW, values)
        finally:
            self._writers.release()

    async def _run(self, statement: Update, values: dict[str, object]) -> bool:
        async with self._engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            found = (await autocommit.execute(statement, values)).first()
        return found is not None


def sql_stores(
    engine: AsyncEngine,
) -> tuple[Callable[[], SqlUnitOfWork], Callable[[], SqlUnitOfWork], SqlStreamRenewals]:
    """(Ports.uow, Ports.reader, Ports.renewals) on one engine; on SQLite the writers and the
    heartbeats share one queue."""
    writers = asyncio.Lock() if engine.dialect.name == "sqlite" else None
    return (
        sql_unit_of_work_factory(engine, writers=writers),
        sql_unit_of_work_factory(engine, read_only=True),
        SqlStreamRenewals(engine, writers),
    )


def sql_unit_of_work_factory(
    engine: AsyncEngine, *, read_only: bool = False, writers: asyncio.Lock | None = None
) -> Callable[[], SqlUnitOfWork]:
    """What Ports.uow (or, read_only, Ports.reader) wants: a fresh unit of work per call,
    all on one engine (and its pool)."""

    if writers is None and engine.dialect.name == "sqlite" and not read_only:
        writers = asyncio.Lock()

    def new_unit_of_work() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, read_only=read_only, writers=writers)

    return new_unit_of_work
