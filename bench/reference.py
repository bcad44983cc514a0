"""The reference for Play and heartbeat: Litestar and the raw driver, nothing else (issue 13).

What the framework and the database can do on this machine, so screengate's figures are read
as ratios to it. The same admission screengate makes, with none of its layers:

- tokens in a dict (token -> account, session), filled by `POST /seed`;
- Play (`POST /v1/streams`): BEGIN; SELECT ... FOR UPDATE on the account; count the live
  streams of the account's other sessions; end this session's own stream (a device plays one
  thing at a time, as in screengate); INSERT the new one; COMMIT. 409 when the plan is full;
- heartbeat (`POST /v1/streams/{id}/heartbeat`): one `UPDATE ... RETURNING` of a live stream
  of this session.

asyncpg on PostgreSQL (a pool as large as screengate's); on SQLite one aiosqlite connection in
WAL mode, each Play in `BEGIN IMMEDIATE` under an asyncio lock (SQLite has one writer). Served by
Granian, one worker, as `screengate serve` is: `python -m bench.reference --port N` with
BENCH_REFERENCE_DATABASE_URL set (a postgresql:// or sqlite:/// URL; its own tables, bench_ref_*).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msgspec
from litestar import Litestar, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from sqlalchemy.engine import make_url

VARIABLE = "BENCH_REFERENCE_DATABASE_URL"
LEASE_SECONDS = 90.0
SCREENS = 4  # each seeded account: Premium's 4 screens, 4 devices
POOL_SIZE = 30  # screengate's: pool_size 10 + max_overflow 20

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bench_ref_accounts (id TEXT PRIMARY KEY, max_streams INTEGER)",
    "CREATE TABLE IF NOT EXISTS bench_ref_streams (id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
    " session_id TEXT NOT NULL, profile_id TEXT NOT NULL, title_id TEXT NOT NULL,"
    " started_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,"
    " ended_at DOUBLE PRECISION)",
    "CREATE INDEX IF NOT EXISTS bench_ref_streams_live ON bench_ref_streams (account_id)"
    " WHERE ended_at IS NULL",
)
# $n placeholders (asyncpg); SQLite reads them as ?NNN parameters.
LOCK = "SELECT max_streams FROM bench_ref_accounts WHERE id = $1 FOR UPDATE"
COUNT_LIVE = (
    "SELECT count(*) FROM bench_ref_streams WHERE account_id = $1 AND session_id <> $2"
    " AND ended_at IS NULL AND expires_at > $3"
)
END_OWN = (
    "UPDATE bench_ref_streams SET ended_at = $3 WHERE account_id = $1 AND session_id = $2"
    " AND ended_at IS NULL"
)
INSERT = (
    "INSERT INTO bench_ref_streams (id, account_id, session_id, profile_id, title_id,"
    " started_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
RENEW = (
    "UPDATE bench_ref_streams SET expires_at = $1 WHERE id = $2 AND session_id = $3"
    " AND ended_at IS NULL AND expires_at > $4 RETURNING expires_at"
)


class PlayBody(msgspec.Struct):
    profile_id: str
    title_id: str


class SeedBody(msgspec.Struct):
    devices: int


@dataclass(frozen=True)
class Holder:
    account_id: str
    session_id: str


class Store(Protocol):
    async def admit(self, holder: Holder, stream_id: str, body: PlayBody, now: float) -> bool: ...

    async def renew(self, holder: Holder, stream_id: str, now: float) -> float | None: ...

    async def add_account(self, account_id: str) -> None: ...

    async def close(self) -> None: ...


class PostgresStore:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresStore:
        import asyncpg

        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=POOL_SIZE)
        async with pool.acquire() as connection:
            for statement in SCHEMA:
                await connection.execute(statement)
        return cls(pool)

    async def admit(self, holder: Holder, stream_id: str, body: PlayBody, now: float) -> bool:
        async with self._pool.acquire() as connection, connection.transaction():
            limit = await connection.fetchval(LOCK, holder.account_id)
            live = await connection.fetchval(COUNT_LIVE, holder.account_id, holder.session_id, now)
            if live >= limit:
                return False
            await connection.execute(END_OWN, holder.account_id, holder.session_id, now)
            await connection.execute(
                INSERT,
                stream_id,
                holder.account_id,
                holder.session_id,
                body.profile_id,
                body.title_id,
                now,
                now + LEASE_SECONDS,
            )
        return True

    async def renew(self, holder: Holder, stream_id: str, now: float) -> float | None:
        found: float | None = await self._pool.fetchval(
            RENEW, now + LEASE_SECONDS, stream_id, holder.session_id, now
        )
        return found

    async def add_account(self, account_id: str) -> None:
        await self._pool.execute(
            "INSERT INTO bench_ref_accounts (id, max_streams) VALUES ($1, $2)", account_id, SCREENS
        )

    async def close(self) -> None:
        await self._pool.close()


def _sqlite(statement: str) -> str:
    return statement.replace("$", "?").replace(" FOR UPDATE", "")


class SqliteStore:
    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._writer = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        import aiosqlite

        connection = await aiosqlite.connect(path, isolation_level=None)
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        for statement in SCHEMA:
            await connection.execute(statement.replace("DOUBLE PRECISION", "REAL"))
        return cls(connection)

    async def admit(self, holder: Holder, stream_id: str, body: PlayBody, now: float) -> bool:
        db = self._connection
        async with self._writer:
            await db.execute("BEGIN IMMEDIATE")
            try:
                limit = await _one(db, _sqlite(LOCK), (holder.account_id,))
                live = await _one(
                    db, _sqlite(COUNT_LIVE), (holder.account_id, holder.session_id, now)
                )
                if live >= limit:
                    await db.execute("ROLLBACK")
                    return False
                await db.execute(_sqlite(END_OWN), (holder.account_id, holder.session_id, now))
                await db.execute(
                    _sqlite(INSERT),
                    (
                        stream_id,
                        holder.account_id,
                        holder.session_id,
                        body.profile_id,
                        body.title_id,
                        now,
                        now + LEASE_SECONDS,
                    ),
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return True

    async def renew(self, holder: Holder, stream_id: str, now: float) -> float | None:
        async with self._writer:
            found: float | None = await _one(
                self._connection,
                _sqlite(RENEW),
                (now + LEASE_SECONDS, stream_id, holder.session_id, now),
            )
        return found

    async def add_account(self, account_id: str) -> None:
        async with self._writer:
            await self._connection.execute(
                "INSERT INTO bench_ref_accounts (id, max_streams) VALUES (?, ?)",
                (account_id, SCREENS),
            )

    async def close(self) -> None:
        await self._connection.close()


async def _one(db: Any, statement: str, parameters: tuple[object, ...]) -> Any:
    async with db.execute(statement, parameters) as cursor:
        row = await cursor.fetchone()
    return None if row is None else row[0]


async def open_store(url: str) -> Store:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return await SqliteStore.open(parsed.database or "")
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return await PostgresStore.open(dsn)


@dataclass
class Reference:
    store: Store
    tokens: dict[str, Holder] = field(default_factory=dict)

    def holder(self, authorization: str | None) -> Holder:
        scheme, _, token = (authorization or "").partition(" ")
        found = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if found is None:
            raise NotAuthorizedException()
        return found


def _reference(state: State) -> Reference:
    found: Reference = state.reference
    return found


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@post("/seed", status_code=201)
async def seed(data: SeedBody, state: State) -> dict[str, list[str]]:
    """`devices` signed-in devices, 4 to an account; their bearer tokens."""
    reference = _reference(state)
    tokens: list[str] = []
    for n in range(0, data.devices, SCREENS):
        account_id = secrets.token_hex(8)
        await reference.store.add_account(account_id)
        for _ in range(min(SCREENS, data.devices - n)):
            token = secrets.token_urlsafe(32)
            reference.tokens[token] = Holder(account_id, secrets.token_hex(8))
            tokens.append(token)
    return {"tokens": tokens}


@post("/v1/streams", status_code=201)
async def play(data: PlayBody, state: State, headers: dict[str, str]) -> Response[Any]:
    reference = _reference(state)
    holder = reference.holder(headers.get("authorization"))
    stream_id = secrets.token_hex(12)
    if not await reference.store.admit(holder, stream_id, data, time.time()):
        return Response({"code": "too_many_streams"}, status_code=409)
    return Response({"stream_id": stream_id}, status_code=201)


@post("/v1/streams/{stream_id:str}/heartbeat", status_code=200)
async def heartbeat(stream_id: str, state: State, headers: dict[str, str]) -> Response[Any]:
    reference = _reference(state)
    holder = reference.holder(headers.get("authorization"))
    expires_at = await reference.store.renew(holder, stream_id, time.time())
    if expires_at is None:
        return Response({"code": "stream_ended"}, status_code=410)
    return Response({"expires_at": expires_at}, status_code=200)


def create_app(url: str) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store = await open_store(url)
        app.state.reference = Reference(store)
        try:
            yield
        finally:
            await store.close()

    return Litestar([healthz, seed, play, heartbeat], lifespan=[lifespan])


def from_env() -> Litestar:
    return create_app(os.environ[VARIABLE])


# --- serving it for a benchmark ------------------------------------------------------------------


@contextmanager
def serve(database_url: str, log: Path, env: Mapping[str, str] | None = None) -> Iterator[Any]:
    """The reference on a free loopback port, Granian with one worker; stopped after."""
    import subprocess

    from bench.load import ROOT
    from bench.server import HOST, RunningServer, _wait_until_ready, free_port, stop

    port = free_port()
    environment = dict(os.environ) | dict(env or {})
    environment |= {
        VARIABLE: database_url,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.reference", "--host", HOST, "--port", str(port)],
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = RunningServer(HOST, port, process.pid, log)
        try:
            _wait_until_ready(process, server)
            yield server
        finally:
            stop(process)


def seed_devices(server: Any, devices: int) -> list[str]:
    import httpx

    answer = httpx.post(f"{server.base_url}/seed", json={"devices": devices}, timeout=60.0)
    answer.raise_for_status()
    tokens: list[str] = answer.json()["tokens"]
    return tokens


def main(argv: list[str] | None = None) -> int:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    parser = argparse.ArgumentParser(prog="python -m bench.reference", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    args = parser.parse_args(argv)
    Granian(
        "bench.reference:from_env",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        http=HTTPModes.http1,
    ).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
