"""SQL round trips per Play and per heartbeat, counted on screengate's own engine (issue 13).

The real app, in this process, on the given store; each request goes straight into it (no
sockets: bench/inprocess.py's `call`). SQLAlchemy's event hooks count what crosses to the
database: every statement (`before_cursor_execute`), every BEGIN / COMMIT / ROLLBACK the driver
sends (on SQLite the BEGIN IMMEDIATE is a statement; an autocommitted statement sends
neither). Pool checkouts are shown apart: a checked-out connection is pinged (one more round
trip) only after sitting idle for 10 s, which no connection does under load. Redis commands
are not counted here. The reference (bench/reference.py) takes 6 per Play (BEGIN, lock, count, end
its own, insert, COMMIT) and 1 per heartbeat, by construction.

python -m bench.roundtrips sqlite:///x.db [-n 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from bench.inprocess import bearer_token, call
from screengate.app import create_app
from screengate.config import Settings

REQUESTS = 20
REFERENCE = {"play": 6, "heartbeat": 1}
TITLE = "wild-coasts"


@dataclass
class Tally:
    statements: int = 0
    transactions: int = 0  # BEGIN, COMMIT, ROLLBACK sent by the driver
    checkouts: int = 0
    texts: dict[str, int] = field(default_factory=dict)

    @property
    def round_trips(self) -> int:
        return self.statements + self.transactions

    def reset(self) -> None:
        self.statements = self.transactions = self.checkouts = 0
        self.texts = {}


@contextmanager
def counting(postgres: bool) -> Iterator[Tally]:
    """Count on every engine and pool made while inside (class-level listeners)."""
    tally = Tally()

    def statement(*args: Any, **kwargs: Any) -> None:
        tally.statements += 1
        text = str(args[2]).split()[0:3]
        key = " ".join(text)
        tally.texts[key] = tally.texts.get(key, 0) + 1

    def autocommit(connection: Any) -> bool:
        # The driver sends no BEGIN or COMMIT for an autocommitted statement.
        options = connection.get_execution_options()
        return bool(options.get("isolation_level") == "AUTOCOMMIT")

    def begin(connection: Any, *args: Any, **kwargs: Any) -> None:
        # SQLite's BEGIN IMMEDIATE is a statement, counted as one.
        if postgres and not autocommit(connection):
            tally.transactions += 1

    def transaction(connection: Any, *args: Any, **kwargs: Any) -> None:
        if not autocommit(connection):
            tally.transactions += 1

    def checkout(*args: Any, **kwargs: Any) -> None:
        tally.checkouts += 1

    hooks: list[tuple[Any, str, Any]] = [
        (Engine, "before_cursor_execute", statement),
        (Engine, "begin", begin),
        (Engine, "commit", transaction),
        (Engine, "rollback", transaction),
        (Pool, "checkout", checkout),
    ]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield tally
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


@dataclass(frozen=True)
class Count:
    play: float
    heartbeat: float
    play_checkouts: float
    heartbeat_checkouts: float


async def _measure(settings: Settings, tally: Tally, n: int) -> Count:
    app = create_app(settings)
    async with app.lifespan():
        token = await bearer_token(app)
        auth = [(b"authorization", f"Bearer {token}".encode())]
        json_headers = [*auth, (b"content-type", b"application/json")]
        status, body = await call(app, "GET", "/v1/account", auth)
        profile_id = json.loads(body)["profiles"][0]["profile_id"]
        play = json.dumps({"profile_id": profile_id, "title_id": TITLE}).encode()

        async def one_play() -> str:
            status, body = await call(app, "POST", "/v1/streams", json_headers, play)
            if status != 201:
                raise RuntimeError(f"Play answered {status}: {body!r}")
            return str(json.loads(body)["stream_id"])

        stream_id = await one_play()  # warm: caches filled, statements compiled
        await asyncio.sleep(0.05)
        tally.reset()
        for _ in range(n):
            stream_id = await one_play()
        await asyncio.sleep(0.05)  # what a Play sets off after its answer counts too
        plays, play_checkouts = tally.round_trips / n, tally.checkouts / n
        path = f"/v1/streams/{stream_id}/heartbeat"
        await call(app, "POST", path, auth)
        tally.reset()
        for _ in range(n):
            status, body = await call(app, "POST", path, auth)
            if status != 200:
                raise RuntimeError(f"heartbeat answered {status}: {body!r}")
        await asyncio.sleep(0.05)
        return Count(plays, tally.round_trips / n, play_checkouts, tally.checkouts / n)


def count(database_url: str, env: Mapping[str, str] | None = None, n: int = REQUESTS) -> Count:
    """Round trips per Play and per heartbeat on this (migrated) store."""
    extra = dict(env or {})
    settings = Settings(
        database_url=database_url,
        redis_url=extra.get("SCREENGATE_REDIS_URL"),
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        log_level="WARNING",
    )
    with counting(postgres=database_url.startswith("postgresql")) as tally:
        return asyncio.run(_measure(settings, tally, n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.roundtrips", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("-n", type=int, default=REQUESTS)
    parser.add_argument("--redis")
    args = parser.parse_args(argv)
    from screengate.adapters.sql.migrate import upgrade_sync

    upgrade_sync(args.url)
    env = {"SCREENGATE_REDIS_URL": args.redis} if args.redis else {}
    print(count(args.url, env, args.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
