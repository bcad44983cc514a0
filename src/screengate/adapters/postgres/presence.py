"""Which devices hold an open event stream, across instances, when PostgreSQL is the only shared
service: a row per (session, instance) in the unlogged `presence` table, until a moment."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence

import asyncpg

from screengate.domain.ids import SessionId

TTL_SECONDS = 30
REFRESH_SECONDS = 10
# Rows per statement: ten thousand sessions (a sign-out everywhere) in a couple of round trips.
BATCH = 5_000
# Streams that close together (a sign-out's ten thousand) leave in one statement.
LEAVE_AFTER_SECONDS = 0.05
CONNECT_TIMEOUT_SECONDS = 5.0

_MARK = """
INSERT INTO presence (session_id, instance_id, until_ms)
SELECT s, $2, $3 FROM unnest($1::text[]) AS s
ON CONFLICT (session_id, instance_id) DO UPDATE SET until_ms = EXCLUDED.until_ms
"""
_FORGET = "DELETE FROM presence WHERE instance_id = $2 AND session_id = ANY($1::text[])"
_ELSEWHERE = """
SELECT DISTINCT session_id FROM presence
WHERE session_id = ANY($1::text[]) AND instance_id <> $2 AND until_ms > $3
"""
_LAPSED = "DELETE FROM presence WHERE until_ms < $1"
_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class PostgresPresence:
    """ports.Presence on PostgreSQL. An instance that dies leaves rows that lapse within
    TTL_SECONDS; one that lives refreshes its own. A failure to ask counts as not connected
    (the sign-out receipt then says pending), never as an error for the request."""

    def __init__(self, dsn: str, instance_id: str) -> None:
        self._dsn = dsn
        self._instance = instance_id
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._local: dict[SessionId, int] = defaultdict(int)
        self._leaving: set[SessionId] = set()
        self._flush: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._refresh_forever(), name="screengate-presence")

    async def stop(self) -> None:
        for task in (self._task, self._flush):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        with contextlib.suppress(*_ERRORS):
            self._leaving.update(self._local)
            self._local.clear()
            await self._forget()
        if self._pool is not None:
            await self._pool.close()

    async def join(self, session_id: SessionId) -> None:
        self._local[session_id] += 1
        self._leaving.discard(session_id)
        with contextlib.suppress(*_ERRORS):
            await self._mark([session_id])

    async def leave(self, session_id: SessionId) -> None:
        self._local[session_id] -= 1
        if self._local[session_id] > 0:
            return
        del self._local[session_id]
        self._leaving.add(session_id)
        if self._flush is None:
            self._flush = asyncio.create_task(self._forget_soon(), name="screengate-presence-leave")

    async def connected(self, session_ids: Sequence[SessionId]) -> set[SessionId]:
        here = {s for s in session_ids if s in self._local}
        elsewhere = [s for s in session_ids if s not in here]
        try:
            pool = await self._connections()
            for batch in _batches(elsewhere):
                rows = await pool.fetch(_ELSEWHERE, list(batch), self._instance, _now_ms())
                here.update(SessionId(row["session_id"]) for row in rows)
        except _ERRORS:
            pass
        return here

    async def _connections(self) -> asyncpg.Pool:
        async with self._opening:  # a thousand streams opening at once share one pool
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=2, timeout=CONNECT_TIMEOUT_SECONDS
                )
        return self._pool

    async def _forget_soon(self) -> None:
        try:
            await asyncio.sleep(LEAVE_AFTER_SECONDS)
            with contextlib.suppress(*_ERRORS):
                await self._forget()
        finally:
            self._flush = None

    async def _forget(self) -> None:
        # A session that came back meanwhile has joined again: it stays.
        gone = [s for s in self._leaving if s not in self._local]
        self._leaving.clear()
        pool = await self._connections()
        for batch in _batches(gone):
            await pool.execute(_FORGET, list(batch), self._instance)

    async def _mark(self, session_ids: Sequence[SessionId]) -> None:
        until = _now_ms() + TTL_SECONDS * 1000
        pool = await self._connections()
        for batch in _batches(session_ids):
            await pool.execute(_MARK, list(batch), self._instance, until)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            with contextlib.suppress(*_ERRORS):
                await self._mark(list(self._local))
                # Rows of instances that died: nobody else would remove them.
                pool = await self._connections()
                await pool.execute(_LAPSED, _now_ms() - TTL_SECONDS * 1000)


def _batches(session_ids: Sequence[SessionId]) -> Iterator[Sequence[SessionId]]:
    for first in range(0, len(session_ids), BATCH):
        yield session_ids[first : first + BATCH]


def _now_ms() -> int:
    return int(time.time() * 1000)
